"""Built-in assignments: one package per assignment, registered like a course's own."""

"""Progress per course and section, and the student, parent and teacher dashboards."""

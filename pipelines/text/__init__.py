"""What people read: Vietnamese wording and numbers, plain rows, harmless unit text."""

"""Cek Bansos by SMS: commands answered through gammu-smsd, and updates on a case."""

"""Streamlit pages: the shopper's shop (`ui/shop.py`) and the operator console (`ui/console.py`)."""

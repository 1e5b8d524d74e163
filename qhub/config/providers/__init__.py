"""Provider blocks of the QHub file, one module per cloud."""

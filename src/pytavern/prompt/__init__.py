"""Pure prompt building: macros, instruct formatting, World Info, token budgets, assembly."""

"""Excel workbooks as provinces exchange them: one per unit and year, plus the appraisal sheet."""

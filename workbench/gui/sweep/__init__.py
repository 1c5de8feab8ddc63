"""The Sweep panel (`panel.SweepPanel`) and its plots (`plots`)."""

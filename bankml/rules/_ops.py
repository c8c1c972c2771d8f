"""The operators a rule condition may use; shared by the model and the evaluation engine."""

NUMERIC_OPS = ("<=", "<", ">", ">=")
SET_OPS = ("in", "not in")
EQ_OPS = ("==", "!=")
OPS = NUMERIC_OPS + EQ_OPS + SET_OPS

"""Check kinds beyond the first homework's (function, accuracy) and the comparisons they share with grader.scoring."""

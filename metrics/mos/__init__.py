"""MOS predictors: the UTMOS22 strong learner (`utmos22-strong`), rebuilt in our code."""

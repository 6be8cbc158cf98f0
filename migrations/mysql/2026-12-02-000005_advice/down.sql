DROP TABLE advice_usage;
DROP TABLE diary_advice;

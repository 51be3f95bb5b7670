/*
 * Civil dates of the proleptic Gregorian calendar, counted in days from
 * 1970-01-01 (negative before): the arithmetic time zones and cron
 * schedules share.  Pure functions, valid for any year a 64-bit day
 * count holds without overflow (|year| below 10^15).
 */
#ifndef RUNNEL_CIVIL_H
#define RUNNEL_CIVIL_H

#include <stdint.h>

#define CIVIL_DAY_SEC	86400

/* Days from 1970-01-01 to year-month-day (month 1-12, day 1-31). */
int64_t	civil_days(int64_t year, int month, int day);
/* The inverse: *year, *month (1-12) and *day (1-31) of a day count. */
void	civil_date(int64_t days, int64_t *year, int *month, int *day);
/* 0 (Sunday) to 6 (Saturday). */
int	civil_weekday(int64_t days);
int	civil_is_leap(int64_t year);
/* 28 to 31. */
int	civil_month_days(int64_t year, int month);
/* Floor division by a positive divisor: civil_floor_div(-1, 60) is -1. */
int64_t	civil_floor_div(int64_t a, int64_t b);

#endif

/*
 * Civil dates: Howard Hinnant's days_from_civil and civil_from_days
 * (eras of 400 years, March-based years so that the leap day is last).
 */
#include "civil.h"

int64_t
civil_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b) != 0 && (a < 0) != (b < 0))
		q--;
	return q;
}

int64_t
civil_days(int64_t year, int month, int day)
{
	int64_t	 y = year - (month <= 2);
	int64_t	 era = civil_floor_div(y, 400);
	int64_t	 yoe = y - era * 400;
	int64_t	 doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	int64_t	 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

void
civil_date(int64_t days, int64_t *year, int *month, int *day)
{
	int64_t	 z = days + 719468;
	int64_t	 era = civil_floor_div(z, 146097);
	int64_t	 doe = z - era * 146097;
	int64_t	 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t	 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t	 mp = (5 * doy + 2) / 153;
	int	 m = (int)(mp < 10 ? mp + 3 : mp - 9);

	*day = (int)(doy - (153 * mp + 2) / 5 + 1);
	*month = m;
	*year = yoe + era * 400 + (m <= 2);
}

int
civil_weekday(int64_t days)
{
	/* 1970-01-01 was a Thursday */
	int64_t w = (days + 4) % 7;

	return (int)(w < 0 ? w + 7 : w);
}

int
civil_is_leap(int64_t year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int
civil_month_days(int64_t year, int month)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31};

	if (month == 2 && civil_is_leap(year))
		return 29;
	return days[(month - 1) % 12];
}

/*
 * Options about the store: --database and RUNNEL_DATABASE, which string
 * names a PostgreSQL database, and passwords kept out of logs, of the
 * environment and of the process's arguments.
 */
#include "config.h"
#include "store/store.h"
#include "test.h"

static void
masked(const char *in, const char *want)
{
	char out[256];

	config_database_masked(in, out, sizeof(out));
	ASSERT_STR(out, want);
}

TEST(a_uri_password_is_masked_in_the_userinfo_and_the_query)
{
	masked("postgresql://runnel:s3cret@db.example:5432/runnel",
	    "postgresql://runnel:***@db.example:5432/runnel");
	masked("postgres://u:p%40ss@h/db?sslmode=require",
	    "postgres://u:***@h/db?sslmode=require");
	masked("postgresql:///runnel?host=/run/postgresql&password=pw&user=u",
	    "postgresql:///runnel?host=/run/postgresql&password=***&user=u");
	masked("postgresql://h/db?password=pw", "postgresql://h/db?password=***");
	masked("postgresql://u:a@b@h/db", "postgresql://u:***@h/db");
}

TEST(a_uri_without_a_password_is_shown_as_it_is)
{
	masked("postgresql:///runnel?host=/run/postgresql",
	    "postgresql:///runnel?host=/run/postgresql");
	masked("postgresql://runnel@h/db", "postgresql://runnel@h/db");
	masked("postgresql://h/db?user=a@b", "postgresql://h/db?user=a@b");
	masked("postgresql://u:@h/db", "postgresql://u:@h/db");
}

TEST(a_keyword_password_is_masked_plain_or_quoted)
{
	masked("host=/run/postgresql dbname=runnel password=pw user=u",
	    "host=/run/postgresql dbname=runnel password=*** user=u");
	masked("password = 'a b\\' c' dbname=x", "password = '***' dbname=x");
	masked("dbname=x password=p\\ q", "dbname=x password=***");
	masked("dbname=x passwordx=y", "dbname=x passwordx=y");
	masked("dbname=runnel", "dbname=runnel");
}

TEST(a_masked_string_is_cut_to_its_buffer)
{
	char out[16];

	config_database_masked("postgresql://u:pw@a-long-host-name/db", out,
	    sizeof(out));
	ASSERT_STR(out, "postgresql://u:");
}

TEST(uris_and_keyword_strings_are_postgresql_and_paths_are_not)
{
	ASSERT(store_is_postgresql("postgresql:///runnel?host=/run/postgresql"));
	ASSERT(store_is_postgresql("postgres://u@h/db"));
	ASSERT(store_is_postgresql("dbname=runnel"));
	ASSERT(store_is_postgresql("host=/run/postgresql dbname=runnel"));
	ASSERT(store_is_postgresql("  dbname = runnel"));
	ASSERT(!store_is_postgresql("/srv/runnel/data/runnel.db"));
	ASSERT(!store_is_postgresql("/srv/a=b/runnel.db"));
	ASSERT(!store_is_postgresql("runnel.db"));
	ASSERT(!store_is_postgresql("mysql://h/db"));
	ASSERT(!store_is_postgresql(""));
}

TEST(the_flag_sets_the_database_and_hides_its_password_from_ps)
{
	struct config	 c;
	char		 a0[] = "runneld", a1[] = "--database",
			 a2[] = "postgresql://u:hunter2@h/db";
	char		*argv[] = {a0, a1, a2, NULL};

	unsetenv("RUNNEL_DATABASE");
	ASSERT_INT(config_parse(&c, 3, argv), ==, 0);
	ASSERT_STR(c.database, "postgresql://u:hunter2@h/db");
	ASSERT_STR(a2, "postgresql://u:xxxxxxx@h/db");
	config_free(&c);
	ASSERT(c.database == NULL);
}

TEST(without_the_option_the_database_is_sqlite_in_the_data_directory)
{
	struct config	 c;
	char		 a0[] = "runneld";
	char		*argv[] = {a0, NULL};

	unsetenv("RUNNEL_DATABASE");
	ASSERT_INT(config_parse(&c, 1, argv), ==, 0);
	ASSERT(c.database == NULL);
	config_free(&c);
}

TEST(the_variable_sets_the_database_and_leaves_the_environment)
{
	struct config	 c;
	char		 a0[] = "runneld";
	char		*argv[] = {a0, NULL};

	setenv("RUNNEL_DATABASE", "dbname=runnel password=pw", 1);
	ASSERT_INT(config_parse(&c, 1, argv), ==, 0);
	ASSERT_STR(c.database, "dbname=runnel password=pw");
	ASSERT(getenv("RUNNEL_DATABASE") == NULL);
	config_free(&c);
}

TEST(an_empty_variable_is_unset_and_an_empty_flag_is_refused)
{
	struct config	 c;
	char		 a0[] = "runneld", a1[] = "--database=";
	char		*argv[] = {a0, a1, NULL};

	setenv("RUNNEL_DATABASE", "", 1);
	ASSERT_INT(config_parse(&c, 1, argv), ==, 0);
	ASSERT(c.database == NULL);
	config_free(&c);
	ASSERT_INT(config_parse(&c, 2, argv), ==, -1);
	config_free(&c);
}

TEST_MAIN_BEGIN
	RUN(a_uri_password_is_masked_in_the_userinfo_and_the_query);
	RUN(a_uri_without_a_password_is_shown_as_it_is);
	RUN(a_keyword_password_is_masked_plain_or_quoted);
	RUN(a_masked_string_is_cut_to_its_buffer);
	RUN(uris_and_keyword_strings_are_postgresql_and_paths_are_not);
	RUN(the_flag_sets_the_database_and_hides_its_password_from_ps);
	RUN(without_the_option_the_database_is_sqlite_in_the_data_directory);
	RUN(the_variable_sets_the_database_and_leaves_the_environment);
	RUN(an_empty_variable_is_unset_and_an_empty_flag_is_refused);
TEST_MAIN_END

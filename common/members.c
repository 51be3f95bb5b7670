/*
 * JSON objects described by tables of members (members.h): the engine
 * under the message codec.  Decoding checks each member's type, range and
 * presence and stores it in the message; encoding applies the same checks
 * to the message and builds the object with cJSON, referring to the
 * caller's strings instead of copying them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "members.h"

static int
refuse(const char **why, const char *what, int rc)
{
	if (why != NULL)
		*why = what;
	return rc;
}

static void *
at(void *msg, size_t offset)
{
	return (char *)msg + offset;
}

static const void *
cat(const void *msg, size_t offset)
{
	return (const char *)msg + offset;
}

static int
str_ok(const struct member *mb, const char *s)
{
	size_t n = strlen(s);

	return n >= (uint64_t)mb->min && n <= (uint64_t)mb->max &&
	    (mb->valid == NULL || mb->valid(s));
}

static const char *
word_find(const char *const *words, const char *s)
{
	for (; *words != NULL; words++)
		if (strcmp(*words, s) == 0)
			return *words;
	return NULL;
}

/* ---- decoding ---------------------------------------------------------- */

/* One JSON object, with nothing but white space after it. */
static int
json_parse(const uint8_t *body, size_t length, cJSON **root, const char **why)
{
	const char	*text = (const char *)body, *end = NULL;
	cJSON		*o;

	*root = NULL;
	if ((o = cJSON_ParseWithLengthOpts(text, length, &end, 0)) == NULL)
		return refuse(why, "body is not JSON", -EPROTO);
	for (; end < text + length; end++)
		if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r') {
			cJSON_Delete(o);
			return refuse(why, "bytes after the JSON body", -EPROTO);
		}
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return refuse(why, "body is not a JSON object", -EPROTO);
	}
	*root = o;
	return 0;
}

/* A number that is an integer in the member's range. */
static int
int_decode(const struct member *mb, const cJSON *v, int64_t *out)
{
	double	 d;

	if (!cJSON_IsNumber(v))
		return -EPROTO;
	d = v->valuedouble;
	/* NaN fails the range; within it the cast is exact. */
	if (!(d >= (double)mb->min && d <= (double)mb->max) ||
	    d != (double)(int64_t)d)
		return -EPROTO;
	*out = (int64_t)d;
	return 0;
}

static int
argv_decode(const struct member *mb, const cJSON *v, void *msg)
{
	const cJSON	*a;
	const char	**argv;
	size_t		 n = 0;

	if (!cJSON_IsArray(v))
		return -EPROTO;
	cJSON_ArrayForEach(a, v) {
		if (!cJSON_IsString(a) ||
		    strlen(a->valuestring) > (uint64_t)mb->item_max)
			return -EPROTO;
		n++;
	}
	if (n < (uint64_t)mb->min || n > (uint64_t)mb->max)
		return -EPROTO;
	if ((argv = calloc(n, sizeof(*argv))) == NULL)
		return -ENOMEM;
	n = 0;
	cJSON_ArrayForEach(a, v)
		argv[n++] = a->valuestring;
	*(const char ***)at(msg, mb->offset) = argv;
	*(size_t *)at(msg, mb->aux) = n;
	return 0;
}

static int
env_decode(const struct member *mb, const cJSON *v, void *msg)
{
	const cJSON	*e;
	struct member_env	*env;
	size_t		 n = 0;

	if (!cJSON_IsObject(v))
		return -EPROTO;
	cJSON_ArrayForEach(e, v) {
		if (!cJSON_IsString(e) || !mb->valid(e->string))
			return -EPROTO;
		n++;
	}
	if (n > (uint64_t)mb->max)
		return -EPROTO;
	if (n == 0)
		return 0;
	if ((env = calloc(n, sizeof(*env))) == NULL)
		return -ENOMEM;
	n = 0;
	cJSON_ArrayForEach(e, v) {
		env[n].name = e->string;
		env[n++].value = e->valuestring;
	}
	*(struct member_env **)at(msg, mb->offset) = env;
	*(size_t *)at(msg, mb->aux) = n;
	return 0;
}

static int	members_obj_decode(const struct member *, const cJSON *, void *,
		    const char **);

/* An absent or null member: what stands for none. */
static int
member_none(const struct member *mb, void *msg)
{
	void	*p = at(msg, mb->offset);

	switch (mb->kind) {
	case MEMBER_INT:
		*(int *)p = (int)mb->none;
		break;
	case MEMBER_I64:
		*(int64_t *)p = mb->none;
		break;
	case MEMBER_OBJ:
		memset(p, 0, mb->aux);
		break;
	default:
		break;	/* the message starts zeroed: NULL, "" and 0 */
	}
	return 0;
}

static int
member_decode(const struct member *mb, const cJSON *obj, void *msg)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(obj, mb->name);
	void		*p = at(msg, mb->offset);
	int64_t		 n;

	if (v == NULL || cJSON_IsNull(v)) {
		if (mb->presence == MEMBER_REQUIRED ||
		    (v == NULL && mb->presence == MEMBER_NULLABLE))
			return -EPROTO;
		return member_none(mb, msg);
	}
	switch (mb->kind) {
	case MEMBER_INT:
		if (int_decode(mb, v, &n) < 0)
			return -EPROTO;
		*(int *)p = (int)n;
		return 0;
	case MEMBER_I64:
		return int_decode(mb, v, (int64_t *)p);
	case MEMBER_STR:
	case MEMBER_STRN:
		if (!cJSON_IsString(v) || !str_ok(mb, v->valuestring))
			return -EPROTO;
		*(const char **)p = v->valuestring;
		if (mb->kind == MEMBER_STRN)
			*(size_t *)at(msg, mb->aux) = strlen(v->valuestring);
		return 0;
	case MEMBER_TEXT:
		if (!cJSON_IsString(v) || !str_ok(mb, v->valuestring))
			return -EPROTO;
		memcpy(p, v->valuestring, strlen(v->valuestring) + 1);
		return 0;
	case MEMBER_WORD:
		if (!cJSON_IsString(v) ||
		    (*(const char **)p = word_find(mb->words,
		    v->valuestring)) == NULL)
			return -EPROTO;
		return 0;
	case MEMBER_ARGV:
		return argv_decode(mb, v, msg);
	case MEMBER_ENV:
		return env_decode(mb, v, msg);
	case MEMBER_OBJ:
		if (!cJSON_IsObject(v))
			return -EPROTO;
		return members_obj_decode(mb->sub, v, p, NULL);
	}
	return -EPROTO;
}

static int
members_obj_decode(const struct member *members, const cJSON *obj, void *msg,
    const char **why)
{
	int	 rc;

	for (const struct member *mb = members; mb->name != NULL; mb++)
		if ((rc = member_decode(mb, obj, msg)) < 0)
			return refuse(why, mb->name, rc);
	return 0;
}

/* ---- encoding ---------------------------------------------------------- */

static int
add(cJSON *obj, const char *name, cJSON *item)
{
	if (item == NULL)
		return -ENOMEM;
	/* Names are the tables' or the caller's: they outlive the tree. */
	if (!cJSON_AddItemToObjectCS(obj, name, item)) {
		cJSON_Delete(item);
		return -ENOMEM;
	}
	return 0;
}

static int
add_str(cJSON *obj, const char *name, const char *s)
{
	return add(obj, name, cJSON_CreateStringReference(s));
}

/* Written by hand: cJSON prints big integers with 15 digits only. */
static int
int_encode(const struct member *mb, cJSON *obj, int64_t v)
{
	char	 text[24];

	if (v < mb->min || v > mb->max)
		return -EINVAL;
	snprintf(text, sizeof(text), "%lld", (long long)v);
	return add(obj, mb->name, cJSON_CreateRaw(text));
}

static int
argv_encode(const struct member *mb, cJSON *obj, const void *msg)
{
	const char		**argv = *(const char **const *)cat(msg,
				    mb->offset);
	size_t			 n = *(const size_t *)cat(msg, mb->aux);
	cJSON			*a;

	if (n < (uint64_t)mb->min || n > (uint64_t)mb->max || argv == NULL)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (argv[i] == NULL || strlen(argv[i]) > (uint64_t)mb->item_max)
			return -EINVAL;
	if ((a = cJSON_CreateArray()) == NULL || add(obj, mb->name, a) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateStringReference(argv[i])))
			return -ENOMEM;
	return 0;
}

static int
env_encode(const struct member *mb, cJSON *obj, const void *msg)
{
	const struct member_env	*env = *(struct member_env *const *)cat(msg,
				    mb->offset);
	size_t			 n = *(const size_t *)cat(msg, mb->aux);
	cJSON			*o;

	if (n > (uint64_t)mb->max || env == NULL)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (env[i].name == NULL || !mb->valid(env[i].name) ||
		    env[i].value == NULL)
			return -EINVAL;
	if ((o = cJSON_CreateObject()) == NULL || add(obj, mb->name, o) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (add_str(o, env[i].name, env[i].value) < 0)
			return -ENOMEM;
	return 0;
}

static int
all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i] != 0)
			return 0;
	return 1;
}

/* 1 when the member holds what stands for none. */
static int
member_is_none(const struct member *mb, const void *msg)
{
	const void *p = cat(msg, mb->offset);

	switch (mb->kind) {
	case MEMBER_INT:
		return *(const int *)p == mb->none;
	case MEMBER_I64:
		return *(const int64_t *)p == mb->none;
	case MEMBER_STR:
	case MEMBER_STRN:
	case MEMBER_WORD:
		return *(const char *const *)p == NULL;
	case MEMBER_TEXT:
		return *(const char *)p == '\0';
	case MEMBER_ARGV:
	case MEMBER_ENV:
		return *(const size_t *)cat(msg, mb->aux) == 0;
	case MEMBER_OBJ:
		return all_zero(p, mb->aux);
	}
	return 0;
}

static int	members_obj_encode(const struct member *, cJSON *, const void *,
		    const char **);

static int
member_encode(const struct member *mb, cJSON *obj, const void *msg)
{
	const void	*p = cat(msg, mb->offset);
	const char	*s;
	cJSON		*o;

	if (mb->presence != MEMBER_REQUIRED && member_is_none(mb, msg))
		return mb->presence == MEMBER_NULLABLE ?
		    add(obj, mb->name, cJSON_CreateNull()) : 0;
	switch (mb->kind) {
	case MEMBER_INT:
		return int_encode(mb, obj, *(const int *)p);
	case MEMBER_I64:
		return int_encode(mb, obj, *(const int64_t *)p);
	case MEMBER_STR:
	case MEMBER_STRN:
		s = *(const char *const *)p;
		if (s == NULL || !str_ok(mb, s) || (mb->kind == MEMBER_STRN &&
		    strlen(s) != *(const size_t *)cat(msg, mb->aux)))
			return -EINVAL;
		return add_str(obj, mb->name, s);
	case MEMBER_TEXT:
		s = p;
		if (memchr(s, '\0', (size_t)mb->max + 1) == NULL || !str_ok(mb, s))
			return -EINVAL;
		return add_str(obj, mb->name, s);
	case MEMBER_WORD:
		s = *(const char *const *)p;
		if (s == NULL || (s = word_find(mb->words, s)) == NULL)
			return -EINVAL;
		return add_str(obj, mb->name, s);
	case MEMBER_ARGV:
		return argv_encode(mb, obj, msg);
	case MEMBER_ENV:
		return env_encode(mb, obj, msg);
	case MEMBER_OBJ:
		if ((o = cJSON_CreateObject()) == NULL || add(obj, mb->name, o) < 0)
			return -ENOMEM;
		return members_obj_encode(mb->sub, o, p, NULL);
	}
	return -EINVAL;
}

static int
members_obj_encode(const struct member *members, cJSON *obj, const void *msg,
    const char **why)
{
	int	 rc;

	for (const struct member *mb = members; mb->name != NULL; mb++)
		if ((rc = member_encode(mb, obj, msg)) < 0)
			return refuse(why, mb->name, rc);
	return 0;
}

int
members_decode(const struct member *members, const uint8_t *text,
    size_t length, void *msg, void **keep, const char **why)
{
	cJSON	*root;
	int	 rc;

	if ((rc = json_parse(text, length, &root, why)) < 0)
		return rc;
	rc = members_obj_decode(members, root, msg, why);
	if (keep != NULL)
		*keep = root;
	else
		cJSON_Delete(root);
	return rc;
}

int
members_encode(const struct member *members, const void *msg, char **text,
    size_t *length, const char **why)
{
	cJSON	*root;
	int	 rc;

	*text = NULL;
	*length = 0;
	if ((root = cJSON_CreateObject()) == NULL)
		return -ENOMEM;
	if ((rc = members_obj_encode(members, root, msg, why)) == 0 &&
	    (*text = cJSON_PrintUnformatted(root)) == NULL)
		rc = -ENOMEM;
	cJSON_Delete(root);
	if (rc == 0)
		*length = strlen(*text);
	return rc;
}

void
members_free(void *json)
{
	cJSON_Delete(json);
}

void
members_text_free(char *text)
{
	cJSON_free(text);
}

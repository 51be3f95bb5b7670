/*
 * JSON objects described by tables of members: the engine under the
 * message codec (msg.c).  One table drives both the decoder and the
 * encoder of a body, so both hold the same types, ranges and presence
 * rules.  A member lives at offset in a message struct.
 */
#ifndef RUNNEL_MEMBERS_H
#define RUNNEL_MEMBERS_H

#include <stddef.h>
#include <stdint.h>

/* One variable of an environment (MEMBER_ENV). */
struct member_env {
	const char	*name;		/* not empty, without '=' */
	const char	*value;
};

enum member_kind {
	MEMBER_INT,	/* int, in min ... max */
	MEMBER_I64,	/* int64_t, in min ... max (within +-2^53) */
	MEMBER_STR,	/* const char *, min ... max bytes; decoded, it points
			 * into the JSON */
	MEMBER_STRN,	/* MEMBER_STR, its strlen in the size_t at aux */
	MEMBER_TEXT,	/* char[max + 1] in the message; "" is none */
	MEMBER_WORD,	/* const char *, one of words; decoded, the table's own */
	MEMBER_ARGV,	/* const char **, min ... max strings of at most
			 * item_max bytes, their count in the size_t at aux */
	MEMBER_ENV,	/* struct member_env *, at most max, names valid, their
			 * count in the size_t at aux */
	MEMBER_OBJ	/* a struct of aux bytes, its own members sub */
};

enum member_presence {
	MEMBER_REQUIRED,	/* present, never null */
	MEMBER_NULLABLE,	/* present; null stands for none */
	MEMBER_OPTIONAL		/* absent or null stand for none */
};

/*
 * None is NULL for pointers, "" for text, 0 for counts, all zero bytes
 * for an object, and `none` for integers.  Tables end at a NULL name.
 */
struct member {
	const char		*name;
	enum member_kind	 kind;
	enum member_presence	 presence;
	size_t			 offset;
	size_t			 aux;
	int64_t			 min;
	int64_t			 max;
	int64_t			 none;
	int64_t			 item_max;
	int			(*valid)(const char *);	/* strings, env names */
	const char *const	*words;			/* NULL-terminated */
	const struct member	*sub;
};

/*
 * Decodes the JSON object in text (length bytes, then nothing but white
 * space) into msg, zeroed by the caller.  With keep, the parsed JSON is
 * handed over whatever the result, as strings point into it (free it
 * with members_free); else it is freed.  Returns 0, -EPROTO with *why
 * naming the member or what is wrong with the text, or -ENOMEM.
 */
int	members_decode(const struct member *, const uint8_t *text,
	    size_t length, void *msg, void **keep, const char **why);
/*
 * Encodes msg into *text, a NUL-terminated JSON object of *length bytes
 * (free with members_text_free).  Returns 0, -EINVAL with *why naming
 * the member out of its rules, or -ENOMEM.
 */
int	members_encode(const struct member *, const void *msg, char **text,
	    size_t *length, const char **why);
void	members_free(void *json);
void	members_text_free(char *text);

#endif

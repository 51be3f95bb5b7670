/*
 * beanstalkd's side of bench/beanstalk.py: CONNS connections to a
 * beanstalkd on 127.0.0.1:PORT, each a thread that puts one job ("true")
 * and waits for its INSERTED before the next, for SECONDS.  Prints the
 * puts acknowledged per second, then the total.
 *
 * usage: beanput PORT CONNS SECONDS
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int		 port;
static double		 until;
static atomic_long	 acked;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
conn_run(void *arg)
{
	static const char	 put[] = "put 0 0 60 4\r\ntrue\r\n";
	struct sockaddr_in	 sa = {.sin_family = AF_INET};
	char			 buf[256];
	int			 fd, one = 1;
	long			 n = 0;

	(void)arg;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("beanput: connect");
		exit(1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	while (now_s() < until) {
		size_t	 got = 0;
		ssize_t	 r;

		if (write(fd, put, sizeof(put) - 1) != (ssize_t)sizeof(put) - 1)
			break;
		/* One answer line: "INSERTED <id>\r\n". */
		while (got < sizeof(buf) - 1 &&
		    (got < 2 || memcmp(buf + got - 2, "\r\n", 2) != 0)) {
			if ((r = read(fd, buf + got, sizeof(buf) - 1 - got)) <= 0)
				goto out;
			got += (size_t)r;
		}
		buf[got] = '\0';
		if (strncmp(buf, "INSERTED ", 9) != 0) {
			fprintf(stderr, "beanput: %s", buf);
			exit(1);
		}
		n++;
	}
out:
	close(fd);
	atomic_fetch_add(&acked, n);
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t	*t;
	double		 t0, secs;
	int		 conns;

	if (argc != 4) {
		fprintf(stderr, "usage: beanput PORT CONNS SECONDS\n");
		return 2;
	}
	port = atoi(argv[1]);
	conns = atoi(argv[2]);
	secs = atof(argv[3]);
	if (conns < 1 || (t = calloc((size_t)conns, sizeof(*t))) == NULL)
		return 2;
	t0 = now_s();
	until = t0 + secs;
	for (int i = 0; i < conns; i++)
		pthread_create(&t[i], NULL, conn_run, NULL);
	for (int i = 0; i < conns; i++)
		pthread_join(t[i], NULL);
	printf("%.0f %ld\n", (double)atomic_load(&acked) / (now_s() - t0),
	    atomic_load(&acked));
	free(t);
	return 0;
}

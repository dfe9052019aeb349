/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmmc_preload_test.h - what the files of vmmc_preload_test share: the
 * listener's port, the helpers (vmmc_preload_util.c) and the tests that
 * main() runs, one file per topic.
 */
#ifndef VMMC_PRELOAD_TEST_H
#define VMMC_PRELOAD_TEST_H

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmmc_sock.h"		/* AF_VMMC, SOL_VMMC only */
#include "vmmc_tap.h"

#define PORT	7301

/* vmmc_preload_util.c */
long now_ms(void);
int domain_of(int fd);
struct sockaddr_in addr_of(int port);
int listen_on(int port);
int connect_to(int port);
int pair(int l, int *c, int *s);
void fill(uint8_t *p, size_t n, unsigned int seed);
int write_all(int fd, const void *b, size_t n);
int read_all(int fd, void *b, size_t n);
bool carries(int w, int r, size_t n, unsigned int seed);
int cloexec_of(int fd);
int accept_within(int l);
int fill_up(int c);
int temp_file(uint8_t *a, size_t n, unsigned int seed);

/* vmmc_preload_dual.c */
void test_dual(void);
void test_daemon(void);

/* vmmc_preload_fds.c */
void test_dup(int l);
void test_fds(int l);

/* vmmc_preload_exec.c */
void test_fork(int l);
int exec_image(int c, int e);
void test_exec(const char *self, int l);
void test_stdio(int l);

/* vmmc_preload_threads.c */
void test_threads(int l);
void test_kick(int l);
void test_follow(int l);
int linger_image(void);
void test_linger(const char *self);

/* vmmc_preload_eintr.c */
void test_eintr(int l);

/* vmmc_preload_splice.c */
void test_splice(int l);

/* vmmc_preload_sock.c */
void test_ioctl(int l);
void test_mmsg(int l);
void test_opts(int l);

#endif

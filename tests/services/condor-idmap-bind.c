/*
 * condor-idmap-bind SRC DST UID: bind SRC at DST as an idmapped mount in
 * which what is owned by root on disk is seen as owned by UID (uid and
 * gid), and what UID writes there is stored as root's.  The personal
 * HTCondor of tests/services/condor.sh runs its jobs as an unprivileged
 * user; with the test's temp dir mounted so, those jobs write the store
 * that the tests (root) read, and the other way round.  Linux >= 5.12.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/mount.h>

static int
put(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t w;

	if (fd < 0)
		return -1;
	w = write(fd, s, strlen(s));
	close(fd);
	return w == (ssize_t)strlen(s) ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct mount_attr attr;
	char path[64], map[64], c;
	int go[2], ready[2], ufd, tfd;
	pid_t pid;

	if (argc != 4) {
		fprintf(stderr, "usage: condor-idmap-bind SRC DST UID\n");
		return 64;
	}
	if (pipe(go) == -1 || pipe(ready) == -1)
		return 1;
	/* a child in a new user namespace whose map the mount takes */
	if ((pid = fork()) == 0) {
		close(go[1]);
		close(ready[0]);
		if (unshare(CLONE_NEWUSER) == -1) {
			c = (char)errno;	/* never 'r' (114, EALREADY) */
			(void)write(ready[1], &c, 1);
			_exit(1);
		}
		(void)write(ready[1], "r", 1);
		(void)read(go[0], &c, 1);
		_exit(0);
	}
	close(go[0]);
	close(ready[1]);
	if (pid < 0 || read(ready[0], &c, 1) != 1) {
		fprintf(stderr, "condor-idmap-bind: no user namespace\n");
		return 1;
	}
	if (c != 'r') {		/* the child's errno, from unshare */
		fprintf(stderr, "condor-idmap-bind: no user namespace: "
		    "unshare(CLONE_NEWUSER): %s\n", strerror((unsigned char)c));
		return 1;
	}
	snprintf(map, sizeof(map), "0 %s 1\n", argv[3]);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	if (put(path, map) == -1) {
		perror("condor-idmap-bind: uid_map");
		return 1;
	}
	snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
	(void)put(path, "deny");
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	if (put(path, map) == -1) {
		perror("condor-idmap-bind: gid_map");
		return 1;
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	if ((ufd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		perror("condor-idmap-bind: ns/user");
		return 1;
	}
	tfd = (int)syscall(SYS_open_tree, AT_FDCWD, argv[1],
	    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tfd < 0) {
		perror("condor-idmap-bind: open_tree");
		return 1;
	}
	memset(&attr, 0, sizeof(attr));
	attr.attr_set = MOUNT_ATTR_IDMAP;
	attr.userns_fd = (unsigned long long)ufd;
	if (syscall(SYS_mount_setattr, tfd, "", AT_EMPTY_PATH, &attr,
	    sizeof(attr)) == -1) {
		perror("condor-idmap-bind: mount_setattr");
		return 1;
	}
	if (syscall(SYS_move_mount, tfd, "", AT_FDCWD, argv[2],
	    MOVE_MOUNT_F_EMPTY_PATH) == -1) {
		perror("condor-idmap-bind: move_mount");
		return 1;
	}
	close(go[1]);
	waitpid(pid, NULL, 0);
	return 0;
}

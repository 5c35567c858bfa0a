/*
 * mls_input.h - what an input holds, seen without consuming it.
 *
 * A tool that reads records from its standard input only when records are
 * there (mls-submit, mls-search, mls-ensemble) must leave anything else
 * alone: the rest of a script fed to bash on a pipe, or the input of a
 * while-read loop, belongs to the shell.  A record stream starts with '{'
 * after optional blanks (space, tab, CR, LF).
 */
#ifndef MLS_INPUT_H
#define MLS_INPUT_H

enum mls_input {
	MLS_INPUT_NONE = 0,	/* nothing to read: a terminal, a device, a directory */
	MLS_INPUT_EMPTY,	/* a pipe, file or socket at its end, or only blanks */
	MLS_INPUT_RECORDS,	/* the first byte after blanks is '{' */
	MLS_INPUT_OTHER,	/* anything else, such as shell text */
	MLS_INPUT_UNKNOWN,	/* a pipe where the system cannot peek (not Linux) */
};

/*
 * Look at the first bytes of fd without consuming them: a pipe through
 * tee(2) into a pipe of our own, a stream socket with MSG_PEEK, a regular
 * file with pread(2) at its current offset (which is left where it was).
 * Blocks, as a read would, until a byte that is not a blank or the end
 * arrives; a pipe whose first 4 KiB are blanks counts as MLS_INPUT_OTHER.
 * Writes *what and returns 0, or returns MLS_EIO when a system call fails.
 */
int		 mls_input_peek(int fd, enum mls_input *what);

#endif

/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * proctitle.h -- what ps(1) and top(1) show for a process: "chatd:
 * master", "chatd: worker 3".
 */
#ifndef PROCTITLE_H
#define PROCTITLE_H

/* Remember the argument area that later titles overwrite; call first. */
void	proctitle_init(int argc, char *argv[]);
/* Set the title; as much as fits in the argument area and the name. */
void	proctitle_set(const char *title);

#endif

/* Console input and which VM has it (focus.c). */
#ifndef UHV_VMM_FOCUS_H
#define UHV_VMM_FOCUS_H

#include "lib/types.h"

struct uhv;

/* Who gets console input, in struct uhv. */
struct focus {
	int vm;                  /* the VM that gets console input */
	bool escape;             /* Ctrl-A seen: the next key is for uhv */
};

/* Polls uhv's console and feeds the focused VM; true if any byte
   arrived. */
bool focus_poll(struct uhv *h);
void focus_deliver(struct uhv *h, u8 byte);
/* Gives the focus to the first running VM: not to one whose image failed
   to load. Called once the VMs are built. */
void focus_init(struct uhv *h);
/* The focused VM's name, or "none" if it does not run. */
const char *focus_name(const struct uhv *h);

#endif

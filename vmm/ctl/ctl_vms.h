/*
 * The VM manager behind the control protocol (ctl_vms.c): list, create,
 * start, pause, resume, stop and destroy VMs, and their deadlines.
 */
#ifndef UHV_VMM_CTL_CTL_VMS_H
#define UHV_VMM_CTL_CTL_VMS_H

#include "vmm/ctl/ctl.h"

struct uhv;

/* The protocol's ops on uhv's VMs; ctx is the struct uhv. */
extern const struct ctl_ops ctl_vms_ops;
/* Stop deadlines and agent heartbeats, from the run loop. */
void ctl_vms_tick(struct uhv *h, u64 now);

#endif

/* The guest agent channel of a VM (vm_agent.c, protocol in ctl/agent.c). */
#ifndef UHV_VMM_VM_AGENT_H
#define UHV_VMM_VM_AGENT_H

#include "vmm/vm.h"
#include "vmm/ctl/ctl.h"

struct uhv;

/* Puts the VM's agent channel on its PCI bus if its config asks. */
int vm_add_agent(struct uhv *h, struct vm *vm);
/* Its counters, for the summary. */
void vm_agent_summary(const struct vm *vm);
/* Is an agent connected? */
bool vm_agent_connected(const struct vm *vm);
/* Queues a request to the agent (CTL_E_STATE with msg if none is
   connected). */
enum ctl_code vm_agent_request(struct vm *vm, u64 id, const char *data,
			       size_t len, char *msg);
/* Heartbeat timeouts, called from the run loop for every running VM. */
void vm_agent_tick(struct vm *vm, u64 now);

#endif

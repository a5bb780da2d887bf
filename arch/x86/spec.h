/*
 * Speculation hygiene (spec.c): probed once when VMX is turned on.
 */
#ifndef UHV_ARCH_SPEC_H
#define UHV_ARCH_SPEC_H

/* Decides which SPEC_* mitigations (vcpu.h) this CPU needs and says so. */
void arch_spec_probe(void);

#endif

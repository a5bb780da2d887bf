/*
 * Capture on COM3 (capture_port.c): uhv's side of vmm/net/capture.h. The
 * bridge's hook puts records in the ring; the run loop's poller moves
 * them into the UART.
 */
#ifndef UHV_VMM_CAPTURE_PORT_H
#define UHV_VMM_CAPTURE_PORT_H

#include "vmm/net/capture.h"

#define CAPTURE_FAST_POLL_US  1000   /* 16 bytes a ms: > 115200 baud */
#define CAPTURE_SLOW_POLL_US  10000  /* idle: a frame waits at most this */

struct uhv;
struct uhv_config;

/* Starts capturing the network the config names on COM3 (after the VMs'
   networks exist): writes the file header and says so on the console.
   Nothing if the config names none; a message if there is no UART. */
void capture_port_init(struct uhv *h, const struct uhv_config *c);
/* The bridge's capture hook (struct bridge_ops); ctx is unused. */
void capture_port_frame(void *ctx, int network, const u8 *frame, u32 len,
			u64 now);
/* Moves ring bytes into COM3's FIFO without waiting; the TSC value by
   which it wants to be called again (~0 if capture is off). */
u64 capture_port_poll(u64 now);
/* Sends everything queued, waiting for the UART (before power off). */
void capture_port_flush(void);
/* The counters for the summary; NULL if capture is off. */
const struct capture_ring *capture_port_stats(const char **network);

#endif

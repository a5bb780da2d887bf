/*
 * xstate-check: run from the Linux test guest's /init (kernel cmdline
 * uhv.xstate), static, 64-bit. Two checks of the vector state a guest
 * process sees, each printing one "UHV-LINUX: xstate ..." line:
 *
 * 1. layout: where XSAVEC puts a component (SDM Vol. 1 §13.4.3: in the
 *    compacted format the first component of XCOMP_BV beyond SSE starts
 *    at byte 576, after the legacy region and the XSAVE header), and
 *    whether an XSAVEC/XRSTOR round trip gives the registers back.
 *    Linux 6.x saves tasks' state with XSAVEC when the CPU has it and
 *    not XSAVES, so a CPU that gets this wrong corrupts user processes
 *    that are preempted with live vector registers.
 * 2. retention: workers, two pinned to each CPU, fill zmm0-31 and k0-7
 *    (ymm0-15 without AVX-512, xmm0-15 where the kernel left CR4.OSXSAVE
 *    off) with their own changing pattern, spin, and compare; the kernel
 *    switches them (FXSAVE, XSAVE, XSAVEC, XRSTOR) and uhv switches the
 *    vCPUs under them. Mismatches are counted by register part: xmm
 *    (bytes 0-15 of regs 0-15), ymm_hi (16-31), zmm_hi (32-63), hi16
 *    (zmm16-31) and k.
 *
 * usage: xstate-check [SECONDS]   (retention run time, default 20)
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define XFEATURE_X87     (1u << 0)
#define XFEATURE_SSE     (1u << 1)
#define XFEATURE_YMM     (1u << 2)
#define XFEATURE_OPMASK  (1u << 5)
#define XFEATURE_ZMM_HI256 (1u << 6)
#define XFEATURE_HI16_ZMM  (1u << 7)
#define XFEATURES_AVX512 (XFEATURE_OPMASK | XFEATURE_ZMM_HI256 | XFEATURE_HI16_ZMM)
/* SDM Vol. 1 §13.4: legacy region (512) + header (64); XCOMP_BV at 520,
   its bit 63 says compacted. */
#define XSAVE_EXTENDED   576
#define XSAVE_XCOMP_BV   520
#define XCOMP_COMPACTED  (1ULL << 63)
#define CPUID_1_ECX_OSXSAVE (1u << 27)
#define CPUID_D1_EAX_XSAVEC (1u << 1)
#define CPUID_7_EBX_AVX512F (1u << 16)

#define NREGS 32
#define ZMM_BYTES 64
#define NKREGS 8

static int avx512, avx;

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

/* ---------------------------------------------------------------- layout */

static uint8_t area[8192] __attribute__((aligned(64)));
static uint8_t ymm_in[32] __attribute__((aligned(64)));
static uint8_t ymm_out[32] __attribute__((aligned(64)));
static uint8_t zmm_in[64] __attribute__((aligned(64)));
static uint8_t zmm_out[64] __attribute__((aligned(64)));

/* The offset of needle (n bytes) in area, or -1. */
static long find(const uint8_t *needle, size_t n, size_t limit)
{
	for (size_t off = 0; off + n <= limit; off++)
		if (!memcmp(area + off, needle, n))
			return (long)off;
	return -1;
}

/* ymm1 = ymm_in (and zmm17 = zmm_in), XSAVEC, clobber them, XRSTOR,
   read them back into ymm_out/zmm_out. Only asm in these two: the target
   attribute lets it name zmm17; the C around them stays plain x86-64. */
__attribute__((target("avx"), noinline))
static void xsavec_round_trip_ymm(uint32_t rfbm)
{
	__asm__ volatile("vmovdqu %0, %%ymm1\n\txsavec64 %1"
			 :: "m"(ymm_in), "m"(area), "a"(rfbm), "d"(0)
			 : "memory", "xmm1");
	__asm__ volatile("vpxor %%xmm1, %%xmm1, %%xmm1\n\txrstor64 %1\n\t"
			 "vmovdqu %%ymm1, %0"
			 : "=m"(ymm_out) : "m"(area), "a"(rfbm), "d"(0)
			 : "memory", "xmm1");
}

__attribute__((target("avx512f"), noinline))
static void xsavec_round_trip_zmm(uint32_t rfbm)
{
	__asm__ volatile("vmovdqu %0, %%ymm1\n\tvmovdqu64 %1, %%zmm17\n\t"
			 "xsavec64 %2"
			 :: "m"(ymm_in), "m"(zmm_in), "m"(area), "a"(rfbm), "d"(0)
			 : "memory", "xmm1", "xmm17");
	__asm__ volatile("vpxor %%xmm1, %%xmm1, %%xmm1\n\t"
			 "vpxorq %%zmm17, %%zmm17, %%zmm17\n\txrstor64 %2\n\t"
			 "vmovdqu %%ymm1, %0\n\tvmovdqu64 %%zmm17, %1"
			 : "=m"(ymm_out), "=m"(zmm_out)
			 : "m"(area), "a"(rfbm), "d"(0) : "memory", "xmm1", "xmm17");
}

static void layout(uint32_t xcr0)
{
	uint32_t rfbm = XFEATURE_X87 | XFEATURE_SSE | XFEATURE_YMM;
	uint32_t a, b, c, d;
	long where, zwhere = -2;
	int round_trip;

	__cpuid_count(0xd, 1, a, b, c, d);
	if (!(a & CPUID_D1_EAX_XSAVEC)) {
		printf("UHV-LINUX: xstate layout: no XSAVEC (CPUID.(EAX=0DH,ECX=1):EAX=%#x)\n", a);
		return;
	}
	for (int i = 0; i < 32; i++)
		ymm_in[i] = (uint8_t)(0xa0 + i);
	for (int i = 0; i < 64; i++)
		zmm_in[i] = (uint8_t)(0x40 + i);
	if (avx512 && (xcr0 & XFEATURES_AVX512) == XFEATURES_AVX512)
		rfbm |= XFEATURES_AVX512;
	memset(area, 0, sizeof(area));
	if (rfbm & XFEATURE_HI16_ZMM)
		xsavec_round_trip_zmm(rfbm);
	else
		xsavec_round_trip_ymm(rfbm);
	/* ymm1's upper half is the second 16-byte slot of the YMM component,
	   at 576 + 16 in the compacted format */
	where = find(ymm_in + 16, 16, sizeof(area));
	if (rfbm & XFEATURE_HI16_ZMM)
		zwhere = find(zmm_in, 64, sizeof(area));
	round_trip = !memcmp(ymm_in, ymm_out, 32) &&
		     (!(rfbm & XFEATURE_HI16_ZMM) || !memcmp(zmm_in, zmm_out, 64));
	/* expected: ymm1_hi at 576+16; zmm17 (Hi16_ZMM, after YMM 256,
	   opmask 64, ZMM_Hi256 512) at 576+256+64+512+64 */
	printf("UHV-LINUX: xstate layout: XSAVEC rfbm %#x xcomp_bv %#llx ymm1_hi at %ld (want %d)",
	       rfbm, (unsigned long long)*(uint64_t *)(area + XSAVE_XCOMP_BV),
	       where, XSAVE_EXTENDED + 16);
	if (rfbm & XFEATURE_HI16_ZMM)
		printf(" zmm17 at %ld (want %d)", zwhere,
		       XSAVE_EXTENDED + 256 + 64 + 512 + 64);
	printf(" round trip %s: %s\n", round_trip ? "ok" : "BAD",
	       where == XSAVE_EXTENDED + 16 &&
	       (!(rfbm & XFEATURE_HI16_ZMM) || zwhere == XSAVE_EXTENDED + 256 + 64 + 512 + 64) &&
	       round_trip ? "ok" : "BROKEN");
}

/* ---------------------------------------------------------------- retention */

struct regs {
	uint8_t z[NREGS][ZMM_BYTES];
	uint64_t k[NKREGS];
} __attribute__((aligned(64)));

static struct regs want, got;

#define Z(n) "vmovdqu64 " #n "*64(%0), %%zmm" #n "\n\t"
#define ZS(n) "vmovdqu64 %%zmm" #n ", " #n "*64(%1)\n\t"
#define Y(n) "vmovdqu " #n "*64(%0), %%ymm" #n "\n\t"
#define YS(n) "vmovdqu %%ymm" #n ", " #n "*64(%1)\n\t"
#define K(n) "kmovq 2048+" #n "*8(%0), %%k" #n "\n\t"
#define KS(n) "kmovq %%k" #n ", 2048+" #n "*8(%1)\n\t"
#define ALL16(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) \
	M(11) M(12) M(13) M(14) M(15)
#define HI16(M) M(16) M(17) M(18) M(19) M(20) M(21) M(22) M(23) M(24) \
	M(25) M(26) M(27) M(28) M(29) M(30) M(31)
#define ALL8(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7)
#define CLOBBER_ZMM "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", \
	"xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", \
	"xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", \
	"xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", \
	"xmm31", "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"
#define CLOBBER_YMM "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", \
	"xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", \
	"xmm15"

/* load, spin (integer only), store: all in one asm, so nothing else
   touches the vector registers in between */
__attribute__((target("avx512f,avx512bw"), noinline))
static void fill_spin_store_zmm(unsigned long spin)
{
	__asm__ volatile(ALL16(Z) HI16(Z) ALL8(K)
			 "1: dec %2\n\tjnz 1b\n\t"
			 ALL16(ZS) HI16(ZS) ALL8(KS)
			 : : "r"(&want), "r"(&got), "r"(spin)
			 : "memory", "cc", CLOBBER_ZMM);
}

__attribute__((target("avx"), noinline))
static void fill_spin_store_ymm(unsigned long spin)
{
	__asm__ volatile(ALL16(Y) "1: dec %2\n\tjnz 1b\n\t" ALL16(YS)
			 : : "r"(&want), "r"(&got), "r"(spin)
			 : "memory", "cc", CLOBBER_YMM);
}

#define X(n) "movdqu " #n "*64(%0), %%xmm" #n "\n\t"
#define XS(n) "movdqu %%xmm" #n ", " #n "*64(%1)\n\t"

static void fill_spin_store_xmm(unsigned long spin)
{
	__asm__ volatile(ALL16(X) "1: dec %2\n\tjnz 1b\n\t" ALL16(XS)
			 : : "r"(&want), "r"(&got), "r"(spin)
			 : "memory", "cc", CLOBBER_YMM);
}

static void fill_spin_store(unsigned long spin)
{
	if (avx512)
		fill_spin_store_zmm(spin);
	else if (avx)
		fill_spin_store_ymm(spin);
	else
		fill_spin_store_xmm(spin);
}

enum part { P_XMM, P_YMM_HI, P_ZMM_HI, P_HI16, P_K, NPARTS };
static const char *const part_name[NPARTS] = {
	"xmm", "ymm_hi", "zmm_hi", "hi16", "k"
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void worker(int id, int cpu, double seconds)
{
	unsigned long checks = 0, bad = 0, parts[NPARTS] = { 0 };
	int nregs = avx512 ? NREGS : 16;
	int nbytes = avx512 ? ZMM_BYTES : avx ? 32 : 16;
	char first[128] = "";
	cpu_set_t set;
	double end;
	int pinned;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pinned = sched_setaffinity(0, sizeof(set), &set) == 0;
	end = now() + seconds;
	for (uint32_t iter = 1; now() < end; iter++) {
		uint32_t seed = (uint32_t)id * 0x9e3779b9u ^ iter * 0x85ebca6bu;
		int mismatch = 0;

		for (int r = 0; r < nregs; r++)
			for (int b = 0; b < nbytes; b++) {
				seed = seed * 1103515245u + 12345u;
				/* never zero, so an initialized register shows */
				want.z[r][b] = (uint8_t)((seed >> 16) | 1);
			}
		for (int k = 0; k < NKREGS; k++)
			want.k[k] = ((uint64_t)id << 56) | ((uint64_t)iter << 8) | (uint64_t)(k + 1);
		memset(&got, 0, sizeof(got));
		fill_spin_store(20000);
		checks++;
		for (int r = 0; r < nregs; r++)
			for (int b = 0; b < nbytes; b++) {
				enum part p;

				if (want.z[r][b] == got.z[r][b])
					continue;
				p = r >= 16 ? P_HI16 : b < 16 ? P_XMM : b < 32 ? P_YMM_HI : P_ZMM_HI;
				if (!first[0])
					snprintf(first, sizeof(first), "first: check %lu %s%d byte %d want %#x got %#x",
						 checks, avx512 ? "zmm" : avx ? "ymm" : "xmm", r, b, want.z[r][b], got.z[r][b]);
				parts[p]++;
				mismatch = 1;
			}
		if (avx512)
			for (int k = 0; k < NKREGS; k++)
				if (want.k[k] != got.k[k]) {
					if (!first[0])
						snprintf(first, sizeof(first), "first: check %lu k%d want %#llx got %#llx",
							 checks, k, (unsigned long long)want.k[k],
							 (unsigned long long)got.k[k]);
					parts[P_K]++;
					mismatch = 1;
				}
		bad += mismatch;
	}
	printf("UHV-LINUX: xstate worker %d cpu %d%s: %lu checks, %lu bad", id, cpu,
	       pinned ? "" : " (not pinned)", checks, bad);
	for (int p = 0; p < NPARTS; p++)
		if (parts[p])
			printf(", %s %lu bytes", part_name[p], parts[p]);
	printf("%s%s\n", first[0] ? "; " : "", first);
	fflush(stdout);
	exit(bad ? 1 : 0);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 20;
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN), nworkers, failed = 0;
	uint32_t a, b, c, d;
	uint64_t xcr0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	__cpuid(1, a, b, c, d);
	/* without OSXSAVE (the kernel may turn it off) only SSE: xmm0-15 */
	xcr0 = (c & CPUID_1_ECX_OSXSAVE) ? xgetbv0() : 0;
	__cpuid_count(7, 0, a, b, c, d);
	avx = (xcr0 & (XFEATURE_SSE | XFEATURE_YMM)) == (XFEATURE_SSE | XFEATURE_YMM);
	avx512 = avx && (b & CPUID_7_EBX_AVX512F) &&
		 (xcr0 & XFEATURES_AVX512) == XFEATURES_AVX512;
	printf("UHV-LINUX: xstate: %s XCR0 %#llx, %s, %d cpus\n",
	       xcr0 ? "OSXSAVE," : "no OSXSAVE,", (unsigned long long)xcr0,
	       avx512 ? "zmm0-31 k0-7" : avx ? "ymm0-15" : "xmm0-15", ncpu);
	if (avx)
		layout((uint32_t)xcr0);
	if (ncpu < 1)
		ncpu = 1;
	nworkers = 2 * ncpu;
	for (int w = 0; w < nworkers; w++)
		if (fork() == 0)
			worker(w, w % ncpu, seconds);
	for (int w = 0; w < nworkers; w++) {
		int st;

		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			failed++;
	}
	printf("UHV-LINUX: xstate retention: %d of %d workers saw mismatches\n",
	       failed, nworkers);
	return failed ? 1 : 0;
}

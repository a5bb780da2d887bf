/*
 * uhv-tsc: prints the time stamp counter, for the Linux test guest's /init
 * when the kernel was booted without uhv (uhv.direct, tools/bench-linux.sh):
 * under Bochs the TSC counts instructions since power-on, so this is where
 * /init starts, on the same clock as uhv's marks.
 */
#include <stdio.h>
#include <x86intrin.h>

int main(void)
{
	printf("%llu\n", (unsigned long long)__rdtsc());
	return 0;
}

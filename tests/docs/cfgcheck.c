/*
 * cfgcheck FILE...: parses each FILE with uhv's own config parser
 * (vmm/config.c) and prints "FILE: ok" or "FILE:LINE: message"; exit
 * status 1 if any fails. For tests/docs/run.sh: the configurations that
 * README.md and docs/ show must be ones uhv accepts.
 */
#include <stdio.h>
#include <stdlib.h>
#include "vmm/config.h"

int main(int argc, char **argv)
{
	static struct uhv_config cfg;
	static char text[1 << 16];
	int bad = 0;

	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "r");
		size_t n = f ? fread(text, 1, sizeof(text), f) : 0;
		struct cfg_error err = { 0 };

		if (!f) {
			perror(argv[i]);
			bad = 1;
			continue;
		}
		fclose(f);
		if (config_parse(text, n, &cfg, &err)) {
			printf("%s:%d: %s\n", argv[i], err.line, err.msg);
			bad = 1;
		} else {
			printf("%s: ok (%d VM(s), images '%s')\n", argv[i],
			       cfg.nr_vms, cfg.images);
		}
	}
	return bad;
}

/* Error reporting of the loaders: one human-readable line in plan->err. */
#include <stdarg.h>
#include <stdio.h>

#include "boot/internal.h"

int boot_fail(struct boot_plan *plan, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(plan->err, sizeof(plan->err), fmt, ap);
	va_end(ap);
	return err;
}

const char *fmt_size(char buf[32], uint64_t bytes)
{
	static const char *const unit[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
	unsigned int u = 0;
	uint64_t scale = 1;

	while (u + 1 < sizeof(unit) / sizeof(unit[0]) && bytes >= scale * 1024) {
		scale *= 1024;
		u++;
	}
	if (bytes % scale == 0)
		snprintf(buf, 32, "%llu %s", (unsigned long long)(bytes / scale), unit[u]);
	else
		snprintf(buf, 32, "%.1f %s", (double)bytes / (double)scale, unit[u]);
	return buf;
}

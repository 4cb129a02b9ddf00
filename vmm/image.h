/* Reading boot images from files, with a size cap and clear errors. */
#ifndef VMM_IMAGE_H
#define VMM_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* Read all of @path (at most @max bytes) into a malloc'd buffer. On failure
 * writes "<what> <path>: <reason>" into @err and returns a negative errno. */
int image_read(const char *what, const char *path, size_t max, uint8_t **data, size_t *len,
	       char *err, size_t errlen);

#endif

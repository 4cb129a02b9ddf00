/* Boot image files: read whole, bounded, with one-line errors. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/image.h"

int image_read(const char *what, const char *path, size_t max, uint8_t **data, size_t *len,
	       char *err, size_t errlen)
{
	struct stat st;
	size_t done = 0;
	uint8_t *buf;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s %s: not a regular file", what, path);
		close(fd);
		return -EINVAL;
	}
	if (st.st_size == 0 || (uint64_t)st.st_size > max) {
		snprintf(err, errlen, "%s %s: size %lld is %s", what, path, (long long)st.st_size,
			 st.st_size == 0 ? "empty" : "too large");
		close(fd);
		return st.st_size == 0 ? -ENOEXEC : -EFBIG;
	}
	buf = malloc((size_t)st.st_size);
	if (buf == NULL) {
		close(fd);
		snprintf(err, errlen, "%s %s: out of memory", what, path);
		return -ENOMEM;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n <= 0) {
			e = n < 0 ? errno : EIO;
			snprintf(err, errlen, "%s %s: read: %s", what, path, strerror(e));
			free(buf);
			close(fd);
			return -e;
		}
		done += (size_t)n;
	}
	close(fd);
	*data = buf;
	*len = done;
	return 0;
}

#include "config.h"

#include <err.h>
#include <sysexits.h>

#include "cli.h"

int
main(int argc, char *argv[])
{
	cli_init(argc, argv);
	errx(EX_SOFTWARE, "not written yet");
}

#!/bin/sh
# job-contract.bats again, with every job run by the sh wrapper
# (lib/jobwrap.sh) instead of the C executor: both must pass it.
MLS_LOCAL_EXEC=wrapper
export MLS_LOCAL_EXEC
exec "${BATS:-bats}" --tap "${top_srcdir:-.}/tests/cli/job-contract.bats"

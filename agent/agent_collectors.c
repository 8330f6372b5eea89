/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent_collectors: the table of host collectors, in node_exporter's name
 * order. A collector is a coll_def_t exported by its coll_<name>.c file;
 * adding one is one line here (and its docs in docs/agent.md).
 */
#include "agent/agent_int.h"

extern const coll_def_t coll_cpu_def, coll_diskstats_def, coll_filefd_def, coll_filesystem_def, coll_hwmon_def,
    coll_loadavg_def, coll_mdadm_def, coll_meminfo_def, coll_netdev_def, coll_netstat_def, coll_pressure_def,
    coll_sockstat_def, coll_stat_def, coll_time_def, coll_uname_def, coll_vmstat_def;

const coll_def_t *const coll_table[] = {
    &coll_cpu_def,    &coll_diskstats_def, &coll_filefd_def,   &coll_filesystem_def,
    &coll_hwmon_def,  &coll_loadavg_def,   &coll_mdadm_def,    &coll_meminfo_def,
    &coll_netdev_def, &coll_netstat_def,   &coll_pressure_def, &coll_sockstat_def,
    &coll_stat_def,   &coll_time_def,      &coll_uname_def,    &coll_vmstat_def,
};

const size_t coll_table_len = sizeof(coll_table) / sizeof(coll_table[0]);

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for alerts/alerts_tmpl_notify.c and alerts_tmpl_defaults.c:
 * notification templates as Alertmanager renders them (template.Data as
 * `.`, its functions, define/template/block, the default templates).
 * Three fixture groups: FIRING (two firing alerts), RESOLVED (two resolved
 * alerts), MIXED (one of each), plus EMPTY. Cases: "D:" data, "F:"
 * functions, "T:" define/template/block, "E:" errors (Go's wording), and
 * the defaults table. Every case and default was rendered by amtool 0.25
 * (`amtool template render --template.data` with the fixtures as JSON, its
 * default.tmpl and email.tmpl) and gave the same text, except where 0.25
 * predates the behaviour (KV/Pairs String, trimSpace, date, tz, since,
 * humanizeDuration, safeUrl, urlUnescape, __text_alert_list_markdown), where
 * amtool decodes .Data by value (type template.Data, slice capacity) and
 * where positions point into our own default text. Then email.default.html
 * goldens, the HTML mode, hostile input (truncations and byte
 * substitutions of every case) and bounds.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alerts/alerts_int.h"

#define L(n, v)                                                                                                        \
    {                                                                                                                  \
        { n, sizeof(n) - 1 },                                                                                          \
        {                                                                                                              \
            v, sizeof(v) - 1                                                                                           \
        }                                                                                                              \
    }
#define NL(a) (sizeof(a) / sizeof((a)[0]))

/* 2024-01-02T03:04:05.678Z and an hour later, in ms */
#define T0 1704164645678LL
#define T1 (T0 + 3600000LL)

/* ---- FIRING: two firing HighLatency alerts, grouped by alertname ---- */
static const label_t f_l1[] = { L("alertname", "HighLatency"), L("instance", "a:9090"), L("job", "api"),
                                L("severity", "page") };
static const label_t f_a1[] = { L("runbook", "http://rb/1"), L("summary", "Latency high") };
static const label_t f_l2[] = { L("alertname", "HighLatency"), L("instance", "b:9090"), L("job", "api"),
                                L("severity", "page") };
static const label_t f_a2[] = { L("summary", "Latency high") };
static const alerts_notif_alert_t f_alerts[] = {
    { f_l1, NL(f_l1), f_a1, NL(f_a1), T0, 0, "http://prom/graph?g0.expr=x", 0x1234, true },
    { f_l2, NL(f_l2), f_a2, NL(f_a2), T0 + 1000, 0, "http://prom/graph?g0.expr=x", 0xabcdef0123456789ULL, true },
};
static const label_t f_group[] = { L("alertname", "HighLatency") };
static const label_t f_common[] = { L("alertname", "HighLatency"), L("job", "api"), L("severity", "page") };
static const label_t f_cann[] = { L("summary", "Latency high") };
static const alerts_notification_t FIRING = {
    .receiver = "ops",
    .status = "firing",
    .group_key = "{}:{alertname=\"HighLatency\"}",
    .group_labels = f_group,
    .ngroup_labels = NL(f_group),
    .common_labels = f_common,
    .ncommon_labels = NL(f_common),
    .common_annotations = f_cann,
    .ncommon_annotations = NL(f_cann),
    .external_url = "http://am.example:9093",
    .alerts = f_alerts,
    .nalerts = 2,
    .nfiring = 2,
    .now_ms = T1,
};

/* ---- RESOLVED: two resolved DiskFull alerts, grouped by alertname and instance ---- */
static const label_t r_l1[] = { L("alertname", "DiskFull"), L("device", "sda"), L("instance", "db1"),
                                L("severity", "ticket") };
static const label_t r_l2[] = { L("alertname", "DiskFull"), L("device", "sdb"), L("instance", "db1"),
                                L("severity", "ticket") };
static const label_t r_a[] = { L("description", "Disk <90%> & \"full\"") };
static const alerts_notif_alert_t r_alerts[] = {
    { r_l1, NL(r_l1), r_a, NL(r_a), T0, T1, "http://prom/g?1", 0x1, false },
    { r_l2, NL(r_l2), NULL, 0, T0, T1, "http://prom/g?2", 0x2, false },
};
static const label_t r_group[] = { L("alertname", "DiskFull"), L("instance", "db1") };
static const label_t r_common[] = { L("alertname", "DiskFull"), L("instance", "db1"), L("severity", "ticket") };
static const alerts_notification_t RESOLVED = {
    .receiver = "team-X.db",
    .status = "resolved",
    .group_labels = r_group,
    .ngroup_labels = NL(r_group),
    .common_labels = r_common,
    .ncommon_labels = NL(r_common),
    .external_url = "http://am.example:9093",
    .alerts = r_alerts,
    .nalerts = 2,
    .nfiring = 0,
    .now_ms = T1,
};

/* ---- MIXED: one firing, one resolved, grouped by alertname and job ---- */
static const label_t m_l1[] = { L("alertname", "HighLatency"), L("instance", "a:9090"), L("job", "api") };
static const label_t m_l2[] = { L("alertname", "HighLatency"), L("instance", "b:9090"), L("job", "api") };
static const label_t m_a1[] = { L("summary", "slow") };
static const alerts_notif_alert_t m_alerts[] = {
    { m_l1, NL(m_l1), m_a1, NL(m_a1), T0, 0, "http://prom/m1", 0x10, true },
    { m_l2, NL(m_l2), NULL, 0, T0, T1, "http://prom/m2", 0x20, false },
};
static const label_t m_group[] = { L("alertname", "HighLatency"), L("job", "api") };
static const alerts_notification_t MIXED = {
    .receiver = "ops",
    .status = "firing",
    .group_labels = m_group,
    .ngroup_labels = NL(m_group),
    .common_labels = m_group,
    .ncommon_labels = NL(m_group),
    .external_url = "http://am.example:9093",
    .alerts = m_alerts,
    .nalerts = 2,
    .nfiring = 1,
    .now_ms = T1,
};

/* ---- EMPTY: no alerts, no labels (a degenerate group) ---- */
static const alerts_notification_t EMPTY = { .receiver = "", .status = "resolved" };

typedef struct ncase {
    const char *cite;
    const alerts_notification_t *n;
    const char *text;
    const char *want; /* output, or "ERR:" and the error text */
} ncase_t;

#define ERR "ERR:"

static const ncase_t cases[] = {
    /* ---- D: template.Data ---- */
    { "D: receiver", &FIRING, "{{ .Receiver }}", "ops" },
    { "D: receiver is regexp.QuoteMeta'd", &RESOLVED, "{{ .Receiver }}", "team-X\\.db" },
    { "D: status", &FIRING, "{{ .Status }}/{{ $.Status }}", "firing/firing" },
    { "D: external URL", &FIRING, "{{ .ExternalURL }}", "http://am.example:9093" },
    { "D: len of alerts", &FIRING, "{{ len .Alerts }} {{ .Alerts | len }}", "2 2" },
    { "D: firing and resolved", &MIXED, "{{ len .Alerts.Firing }}/{{ len .Alerts.Resolved }}", "1/1" },
    { "D: firing of firing-only", &FIRING, "{{ len .Alerts.Firing }}/{{ len .Alerts.Resolved }}", "2/0" },
    { "D: range over alerts", &MIXED, "{{ range .Alerts }}{{ .Status }} {{ .Labels.instance }};{{ end }}",
      "firing a:9090;resolved b:9090;" },
    { "D: range with index", &MIXED, "{{ range $i, $a := .Alerts }}{{ $i }}={{ $a.Fingerprint }} {{ end }}",
      "0=0000000000000010 1=0000000000000020 " },
    { "D: range over Firing", &MIXED, "{{ range .Alerts.Firing }}{{ .Labels.instance }}{{ end }}", "a:9090" },
    { "D: range over an empty list takes else", &FIRING, "{{ range .Alerts.Resolved }}x{{ else }}none{{ end }}",
      "none" },
    { "D: alert fields", &FIRING,
      "{{ with index .Alerts 1 }}{{ .Status }}|{{ .GeneratorURL }}|{{ .Fingerprint }}|{{ .Annotations.summary }}{{ end "
      "}}",
      "firing|http://prom/graph?g0.expr=x|abcdef0123456789|Latency high" },
    { "D: StartsAt prints as time.Time", &FIRING, "{{ (index .Alerts 0).StartsAt }}",
      "2024-01-02 03:04:05.678 +0000 UTC" },
    { "D: unset EndsAt is the zero time", &FIRING,
      "{{ (index .Alerts 0).EndsAt }}|{{ (index .Alerts 0).EndsAt.IsZero }}", "0001-01-01 00:00:00 +0000 UTC|true" },
    { "D: EndsAt of a resolved alert", &RESOLVED,
      "{{ (index .Alerts 0).EndsAt }}|{{ (index .Alerts 0).EndsAt.IsZero }}",
      "2024-01-02 04:04:05.678 +0000 UTC|false" },
    { "D: time methods", &FIRING,
      "{{ with (index .Alerts 0).StartsAt }}{{ .Unix }} {{ .UnixMilli }} {{ .UTC.Format \"15:04\" }}{{ end }}",
      "1704164645 1704164645678 03:04" },
    { "D: time Format layouts", &FIRING,
      "{{ (index .Alerts 0).StartsAt.Format \"2006-01-02T15:04:05.000Z07:00 Mon Jan _2 3:4:5 PM .999 -0700 MST\" }}",
      "2024-01-02T03:04:05.678Z Tue Jan  2 3:4:5 AM .678 +0000 UTC" },
    { "D: time Format long names, year day", &RESOLVED,
      "{{ (index .Alerts 0).EndsAt.Format \"Monday, 02 January 06 (day 002) 03pm .0 .99\" }}",
      "Tuesday, 02 January 24 (day 002) 04am .6 .67" },
    { "D: KV field lookup", &FIRING, "{{ .CommonLabels.job }}|{{ .CommonLabels.nope }}|", "api||" },
    { "D: KV index", &FIRING, "{{ index .CommonLabels \"severity\" }}", "page" },
    { "D: KV prints as its String", &FIRING, "{{ .CommonLabels }}", "alertname=HighLatency, job=api, severity=page" },
    { "D: KV range is in key order", &FIRING, "{{ range $k, $v := .CommonLabels }}{{ $k }}:{{ $v }} {{ end }}",
      "alertname:HighLatency job:api severity:page " },
    { "D: SortedPairs puts alertname first", &FIRING,
      "{{ range (index .Alerts 0).Labels.SortedPairs }}{{ .Name }}={{ .Value }};{{ end }}",
      "alertname=HighLatency;instance=a:9090;job=api;severity=page;" },
    { "D: SortedPairs without alertname", &FIRING, "{{ range .CommonAnnotations.SortedPairs }}{{ . }}{{ end }}",
      "{summary Latency high}" },
    { "D: Pairs print and methods", &FIRING,
      "{{ .CommonLabels.SortedPairs }}|{{ .CommonLabels.SortedPairs.Names }}|{{ .CommonLabels.SortedPairs.Values }}",
      "alertname=HighLatency, job=api, severity=page|[alertname job severity]|[HighLatency api page]" },
    { "D: KV Names and Values", &RESOLVED, "{{ .GroupLabels.Names }} {{ .GroupLabels.Values }}",
      "[alertname instance] [DiskFull db1]" },
    { "D: KV Remove", &FIRING, "{{ .CommonLabels.Remove .GroupLabels.Names }}", "job=api, severity=page" },
    { "D: KV Remove with stringSlice", &FIRING, "{{ .CommonLabels.Remove (stringSlice \"job\" \"nope\") }}",
      "alertname=HighLatency, severity=page" },
    { "D: KV Remove piped", &FIRING, "{{ stringSlice \"alertname\" | .CommonLabels.Remove }}",
      "job=api, severity=page" },
    { "D: KV Remove of everything is empty", &MIXED,
      "{{ with .CommonLabels.Remove .GroupLabels.Names }}x{{ else }}empty{{ end }}", "empty" },
    { "D: len of KV and pairs", &FIRING, "{{ len .CommonLabels }} {{ len .CommonLabels.SortedPairs }}", "3 3" },
    { "D: index of pairs and strings", &FIRING,
      "{{ (index .CommonLabels.SortedPairs 1).Value }} {{ index .CommonLabels.Values 2 }}", "api page" },
    { "D: empty group", &EMPTY, "[{{ .Receiver }}|{{ len .Alerts }}|{{ .CommonLabels }}|{{ .GroupLabels.Values }}]",
      "[|0||[]]" },
    { "D: dot prints as the data", &MIXED, "{{ . }}",
      "{ops firing [{firing alertname=HighLatency, instance=a:9090, job=api summary=slow 2024-01-02 03:04:05.678 +0000 "
      "UTC 0001-01-01 00:00:00 +0000 UTC http://prom/m1 0000000000000010} {resolved alertname=HighLatency, "
      "instance=b:9090, job=api  2024-01-02 03:04:05.678 +0000 UTC 2024-01-02 04:04:05.678 +0000 UTC http://prom/m2 "
      "0000000000000020}] alertname=HighLatency, job=api alertname=HighLatency, job=api  http://am.example:9093}" },
    { "D: printf of types", &FIRING,
      "{{ printf \"%v|%s|%d\" .CommonLabels.Values (index .Alerts 0).Status (len .Alerts) }}",
      "[HighLatency api page]|firing|2" },
    { "D: if on empty annotations", &RESOLVED, "{{ range .Alerts }}{{ if .Annotations }}A{{ else }}-{{ end }}{{ end }}",
      "A-" },

    { "D: String methods", &FIRING,
      "{{ .CommonLabels.String }}|{{ .GroupLabels.SortedPairs.String }}|{{ (index .Alerts 0).StartsAt.String }}",
      "alertname=HighLatency, job=api, severity=page|alertname=HighLatency|2024-01-02 03:04:05.678 +0000 UTC" },
    { "D: a list of alerts prints its structs", &MIXED, "{{ .Alerts.Resolved }}",
      "[{resolved alertname=HighLatency, instance=b:9090, job=api  2024-01-02 03:04:05.678 +0000 UTC 2024-01-02 "
      "04:04:05.678 +0000 UTC http://prom/m2 0000000000000020}]" },
    { "D: variables hold data values", &FIRING, "{{ $a := index .Alerts 1 }}{{ $a.Labels.instance }} {{ $.Receiver }}",
      "b:9090 ops" },
    { "D: with over a KV", &FIRING, "{{ with .CommonAnnotations }}{{ .summary }}{{ end }}", "Latency high" },
    { "D: KV keys shadowed by methods", &FIRING, "{{ len .CommonLabels.Names }}", "3" },
    { "F: since the zero time saturates", &FIRING, "{{ since (index .Alerts 0).EndsAt }}", "2562047h47m16.854775807s" },
    { "D: time getters", &FIRING,
      "{{ $x := (index .Alerts 0).StartsAt }}{{ $x.Year }} {{ $x.Month }} {{ $x.Day }} {{ $x.Hour }} {{ $x.Minute }} "
      "{{ "
      "$x.Second }} {{ $x.Nanosecond }} {{ $x.YearDay }} {{ $x.Weekday }} {{ $x.UnixNano }} {{ $x.UnixMicro }} {{ eq "
      "$x.Month 1 }} {{ printf \"%d %v\" $x.Month $x.Weekday }} {{ $x.Local }}",
      "2024 January 2 3 4 5 678000000 2 Tuesday 1704164645678000000 1704164645678000 true 1 Tuesday 2024-01-02 "
      "03:04:05.678 +0000 UTC" },
    { "D: Format odd layouts", &FIRING,
      "{{ (index .Alerts 0).StartsAt.Format \"2006-01-02T15:04:05.999999999Z07:00 _2006 Janet Monk 1504 .000000 ,999 "
      "__2 002 pm PM -07 Z07\" }}",
      "2024-01-02T03:04:05.678Z _2024 Janet Monk 0304 .678000 ,678   2 002 am AM +00 Z" },
    { "D: Format the zero time", &FIRING, "{{ (index .Alerts 0).EndsAt.Format \"Mon Jan 2 15:04:05 MST 2006 .9\" }}",
      "Mon Jan 1 00:00:00 UTC 0001 " },
    { "E: time has no Zone here", &FIRING, "{{ (index .Alerts 0).StartsAt.Zone }}",
      /* Go's evalChainNode leaves s.at on the last node the pipe evaluated */
      "ERR:template: t:1:18: executing \"t\" at <0>: can't evaluate field Zone in type time.Time" },
    /* ---- F: functions ---- */
    { "F: toUpper toLower", &FIRING, "{{ toUpper .Status }} {{ \"MiXed\" | toLower }}", "FIRING mixed" },
    { "F: toUpper toLower beyond ASCII", &FIRING,
      "{{ toUpper \"café ñ ÿ straße δς жук ł\" }} {{ toLower \"ÀÉÎ ΣΑ ЖУК Ё Ł Ÿ\" }}",
      "CAFÉ Ñ Ÿ STRAßE ΔΣ ЖУК Ł àéî σα жук ё ł ÿ" },
    { "F: title lowers the rest of each word", &FIRING, "{{ title \"hELLO wORLD it's\" }}", "Hello World It's" },
    { "F: title word rules", &FIRING, "{{ title \"foo_bar 3am a.b o'neil x-y ÉCOLE élan mcDONALD\" }}",
      "Foo_bar 3Am A.b O'neil X-Y École Élan Mcdonald" },
    { "F: trimSpace", &FIRING, "[{{ trimSpace \"  \\t a b \\n\" }}]", "[a b]" },
    { "F: join", &FIRING, "{{ join \", \" .CommonLabels.Values }}|{{ .GroupLabels.Values | join \"+\" }}",
      "HighLatency, api, page|HighLatency" },
    { "F: join of nothing", &EMPTY, "[{{ join \",\" .CommonLabels.Values }}]", "[]" },
    { "F: stringSlice", &FIRING, "{{ stringSlice \"a\" \"b\" }} {{ len (stringSlice) }}", "[a b] 0" },
    { "F: match", &FIRING, "{{ match \"^High\" .CommonLabels.alertname }} {{ match \"x+\" \"abc\" }}", "true false" },
    { "F: reReplaceAll", &FIRING, "{{ reReplaceAll \"(\\\\w+):(\\\\d+)\" \"$2/$1\" \"a:9090 b:1\" }}", "9090/a 1/b" },
    { "F: safeHtml and safeUrl pass text through", &FIRING, "{{ safeHtml \"<b>\" }}{{ safeUrl \"http://x/?a=<\" }}",
      "<b>http://x/?a=<" },
    { "F: urlUnescape", &FIRING, "{{ urlUnescape \"a%20b+c%2F\" }}", "a b c/" },
    { "F: date", &FIRING, "{{ date \"2006-01-02 15:04:05 MST\" (index .Alerts 0).StartsAt }}",
      "2024-01-02 03:04:05 UTC" },
    { "F: tz UTC then date", &FIRING, "{{ (index .Alerts 0).StartsAt | tz \"UTC\" | date \"Jan 2 15:04\" }}",
      "Jan 2 03:04" },
    { "F: since (the notification's now)", &FIRING, "{{ since (index .Alerts 0).StartsAt }}", "1h0m0s" },
    { "F: since through humanizeDuration", &FIRING, "{{ since (index .Alerts 1).StartsAt | humanizeDuration }}",
      "59m 59s" },
    { "F: humanizeDuration", &FIRING, "{{ humanizeDuration 3661 }} {{ humanizeDuration 0.25 }}", "1h 1m 1s 250ms" },
    { "F: len index", &FIRING, "{{ len \"abc\" }} {{ index .GroupLabels \"alertname\" }}", "3 HighLatency" },
    { "F: slice", &FIRING,
      "{{ slice .Status 1 3 }} {{ slice .CommonLabels.Values 1 }} {{ len (slice .Alerts 0 1 2) }} {{ slice "
      ".CommonLabels.SortedPairs 2 }} {{ range slice .Alerts 1 }}{{ .Labels.instance }}{{ end }}",
      "ir [api page] 1 severity=page b:9090" },
    { "E: slice errors", &FIRING, "{{ slice .Status 2 1 }}",
      "ERR:template: t:1:3: executing \"t\" at <slice .Status 2 1>: error calling slice: invalid slice index: 2 > 1" },
    { "E: slice a string 3-index", &FIRING, "{{ slice .Status 0 1 2 }}",
      "ERR:template: t:1:3: executing \"t\" at <slice .Status 0 1 2>: error calling slice: cannot 3-index slice a "
      "string" },
    { "E: slice out of range", &FIRING, "{{ slice .Alerts 3 }}",
      "ERR:template: t:1:3: executing \"t\" at <slice .Alerts 3>: error calling slice: index out of range: 3" },
    { "E: slice a KV", &FIRING, "{{ slice .CommonLabels 1 }}",
      "ERR:template: t:1:3: executing \"t\" at <slice .CommonLabels 1>: error calling slice: can't slice item of type "
      "template.KV" },
    { "F: comparisons", &FIRING,
      "{{ eq .Status \"firing\" }} {{ ne .Status \"firing\" }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt (len .Alerts) 1 }} {{ "
      "ge "
      "1 2 }}",
      "true false true true true false" },
    { "F: eq with several", &FIRING, "{{ eq .Status \"resolved\" \"firing\" }}", "true" },
    { "F: and or not", &FIRING, "{{ and 1 .Status }} {{ or \"\" .Receiver }} {{ not .Alerts.Resolved }}",
      "firing ops true" },
    { "F: print printf println", &FIRING,
      "{{ print 1 2 \"a\" }}|{{ printf \"%05.1f|%q\" 3.14159 .Status }}|{{ println "
      "\"x\" }}",
      "1 2a|003.1|\"firing\"|x\n" },
    { "F: html", &RESOLVED, "{{ html (index .Alerts 0).Annotations.description }}",
      "Disk &lt;90%&gt; &amp; &#34;full&#34;" },
    { "F: urlquery", &RESOLVED, "{{ urlquery .Receiver }}", "team-X%5C.db" },
    { "F: js", &RESOLVED, "{{ js (index .Alerts 0).Annotations.description }}",
      "Disk \\u003C90%\\u003E \\u0026 \\\"full\\\"" },

    /* ---- T: define / template / block ---- */
    { "T: define and call with a pipeline", &FIRING,
      "{{ define \"n\" }}<{{ .Labels.instance }}>{{ end }}{{ range .Alerts }}{{ template \"n\" . }}{{ end }}",
      "<a:9090><b:9090>" },
    { "T: call a default", &FIRING, "{{ template \"slack.default.title\" . }}", "[FIRING:2] HighLatency (api page)" },
    { "T: a user define replaces a default everywhere", &FIRING,
      "{{ define \"__subject\" }}S:{{ .Status }}{{ end }}{{ template \"email.default.subject\" . }}", "S:firing" },
    { "T: an empty user define does not replace a default", &FIRING,
      "{{ define \"__alertmanager\" }} {{ end }}{{ template \"slack.default.username\" . }}", "Alertmanager" },
    { "T: block", &FIRING, "{{ block \"b\" .Alerts.Firing }}{{ len . }} firing{{ end }}", "2 firing" },
    { "T: block redefined by a later define", &FIRING,
      "{{ block \"b\" . }}default{{ end }}{{ define \"b\" }}mine{{ end }}",
      "ERR:template: t:1: template: multiple "
      "definition of template \"b\"" },
    { "T: template with another dot", &MIXED, "{{ template \"__text_alert_list\" .Alerts.Resolved }}",
      "Labels:\n - alertname = HighLatency\n - instance = b:9090\n - job = api\nAnnotations:\nSource: "
      "http://prom/m2\n" },
    { "T: $ inside a template is its dot", &FIRING, "{{ define \"d\" }}{{ $.Status }}{{ end }}{{ template \"d\" . }}",
      "firing" },

    { "T: break and continue in nested ranges", &FIRING,
      "{{ range .Alerts }}{{ range .Labels.SortedPairs }}{{ if eq .Name \"instance\" }}{{ continue }}{{ end }}{{ if eq "
      ".Name \"job\" }}{{ break }}{{ end }}{{ .Value }};{{ end }}|{{ end }}",
      "HighLatency;|HighLatency;|" },
    /* ---- E: errors (Go's wording) ---- */
    { "E: unknown function at parse", &FIRING, "x {{ foo . }}", "ERR:template: t:1: function \"foo\" not defined" },
    { "E: Prometheus functions are not notification functions", &FIRING, "{{ query \"up\" }}",
      "ERR:template: t:1: function \"query\" not defined" },
    { "E: missing template", &FIRING, "{{ template \"nope\" . }}",
      "ERR:template: t:1:12: executing \"t\" at <{{template \"nope\" .}}>: template \"nope\" not defined" },
    { "E: unknown field of the data", &FIRING, "{{ .Foo }}",
      "ERR:template: t:1:3: executing \"t\" at <.Foo>: can't evaluate field Foo in type *template.Data" },
    { "E: unknown field of an alert", &FIRING, "{{ range .Alerts }}{{ .Value }}{{ end }}",
      "ERR:template: t:1:22: executing \"t\" at <.Value>: can't evaluate field Value in type template.Alert" },
    { "E: Firing returns a plain slice", &FIRING, "{{ .Alerts.Firing.Firing }}",
      "ERR:template: t:1:10: executing \"t\" at <.Alerts.Firing.Firing>: can't evaluate field Firing in type "
      "[]template.Alert" },
    { "E: field with arguments", &FIRING, "{{ .Status 1 }}",
      "ERR:template: t:1:3: executing \"t\" at <.Status>: Status has arguments but cannot be invoked as function" },
    { "E: method arity", &FIRING, "{{ .CommonLabels.Remove }}",
      "ERR:template: t:1:16: executing \"t\" at <.CommonLabels.Remove>: wrong number of args for Remove: want 1 got "
      "0" },
    { "E: method argument type", &FIRING, "{{ .CommonLabels.Remove \"job\" }}",
      "ERR:template: t:1:24: executing \"t\" at <\"job\">: can't handle \"job\" for arg of type []string" },
    { "E: join wants a []string", &FIRING, "{{ join \",\" .Status }}",
      "ERR:template: t:1:12: executing \"t\" at <.Status>: wrong type for value; expected []string; got string" },
    { "F: a missing key is an empty pattern", &FIRING, "{{ match .CommonLabels.nosuch \"x\" }}", "true" },
    { "F: nil is an empty []string", &FIRING, "[{{ join \",\" nil }}]", "[]" },
    { "E: nil is not a time", &FIRING, "{{ date \"2006\" nil }}",
      "ERR:template: t:1:15: executing \"t\" at <nil>: cannot assign nil to time.Time" },
    { "E: date wants a time", &FIRING, "{{ date \"2006\" .Status }}",
      "ERR:template: t:1:15: executing \"t\" at <.Status>: wrong type for value; expected time.Time; got string" },
    { "E: tz unknown zone", &FIRING, "{{ tz \"Mars/Base\" (index .Alerts 0).StartsAt }}",
      "ERR:template: t:1:3: executing \"t\" at <tz \"Mars/Base\" (index .Alerts 0).StartsAt>: error calling tz: "
      "unknown "
      "time zone Mars/Base" },
    { "E: urlUnescape bad escape", &FIRING, "{{ urlUnescape \"a%zz\" }}",
      "ERR:template: t:1:3: executing \"t\" at <urlUnescape \"a%zz\">: error calling urlUnescape: invalid URL escape "
      "\"%zz\"" },
    { "E: index at the length (reflect's panic)", &EMPTY, "{{ index .Alerts 0 }}",
      "ERR:template: t:1:3: executing \"t\" at <index .Alerts 0>: error calling index: reflect: slice index out of "
      "range" },
    { "E: index out of range", &FIRING, "{{ index .Alerts 5 }}",
      "ERR:template: t:1:3: executing \"t\" at <index .Alerts 5>: error calling index: index out of range: 5" },
    { "E: range over the data", &FIRING, "{{ template \"__text_alert_list\" . }}",
      "ERR:template: default.tmpl:12:12: executing \"__text_alert_list\" at <.>: range can't iterate over {ops "
      "firing" },
    { "E: stringSlice wants strings", &FIRING, "{{ stringSlice 1 }}",
      "ERR:template: t:1:15: executing \"t\" at <1>: expected string; found 1" },
    { "E: parse error in a define", &FIRING, "{{ define \"a\" }}\n{{ if }}{{ end }}{{ end }}",
      "ERR:template: t:2: missing value for if" },
};

/* ---- DEF: the default templates, {{ template NAME DOT }} ---- */
typedef struct dcase {
    const char *name;
    const alerts_notification_t *n;
    const char *dot; /* the template's argument */
    const char *want;
} dcase_t;

#define F_URL "http://am.example:9093/#/alerts?receiver=ops"
#define R_URL "http://am.example:9093/#/alerts?receiver=team-X%5C.db"
#define F_SUBJ "[FIRING:2] HighLatency (api page)"
#define R_SUBJ "[RESOLVED] DiskFull db1 (ticket)"
#define M_SUBJ "[FIRING:1] HighLatency api "
#define F_LIST                                                                                                         \
    "Labels:\n - alertname = HighLatency\n - instance = a:9090\n - job = api\n - severity = page\nAnnotations:\n - "   \
    "runbook = http://rb/1\n - summary = Latency high\nSource: http://prom/graph?g0.expr=x\nLabels:\n - alertname = "  \
    "HighLatency\n - instance = b:9090\n - job = api\n - severity = page\nAnnotations:\n - summary = Latency "         \
    "high\nSource: http://prom/graph?g0.expr=x\n"
#define R_LIST                                                                                                         \
    "Labels:\n - alertname = DiskFull\n - device = sda\n - instance = db1\n - severity = ticket\nAnnotations:\n - "    \
    "description = Disk <90%> & \"full\"\nSource: http://prom/g?1\nLabels:\n - alertname = DiskFull\n - device = "     \
    "sdb\n - instance = db1\n - severity = ticket\nAnnotations:\nSource: http://prom/g?2\n"

static const dcase_t defs[] = {
    { "__alertmanager", &FIRING, ".", "Alertmanager" },
    { "__alertmanagerURL", &FIRING, ".", F_URL },
    { "__alertmanagerURL", &RESOLVED, ".", R_URL },
    { "__subject", &FIRING, ".", F_SUBJ },
    { "__subject", &RESOLVED, ".", R_SUBJ },
    { "__subject", &MIXED, ".", M_SUBJ },
    { "__subject", &EMPTY, ".", "[RESOLVED]  " },
    { "__description", &FIRING, ".", "" },
    { "__text_alert_list", &FIRING, ".Alerts", F_LIST },
    { "__text_alert_list", &RESOLVED, ".Alerts.Resolved", R_LIST },
    { "__text_alert_list", &MIXED, ".Alerts.Firing",
      "Labels:\n - alertname = HighLatency\n - instance = a:9090\n - job = api\nAnnotations:\n - summary = "
      "slow\nSource: http://prom/m1\n" },
    { "__text_alert_list", &MIXED, ".Alerts.Resolved",
      "Labels:\n - alertname = HighLatency\n - instance = b:9090\n - job = api\nAnnotations:\nSource: "
      "http://prom/m2\n" },
    { "__text_alert_list", &EMPTY, ".Alerts", "" },
    { "__text_alert_list_markdown", &MIXED, ".Alerts",
      "\nLabels:\n  - alertname = HighLatency\n  - instance = a:9090\n  - job = api\n\nAnnotations:\n  - summary = "
      "slow\n\nSource: http://prom/m1\n\nLabels:\n  - alertname = HighLatency\n  - instance = b:9090\n  - job = "
      "api\n\nAnnotations:\n\nSource: http://prom/m2\n\n" },
    { "slack.default.title", &FIRING, ".", F_SUBJ },
    { "slack.default.title", &RESOLVED, ".", R_SUBJ },
    { "slack.default.title", &MIXED, ".", M_SUBJ },
    { "slack.default.username", &FIRING, ".", "Alertmanager" },
    { "slack.default.fallback", &FIRING, ".", F_SUBJ " | " F_URL },
    { "slack.default.fallback", &RESOLVED, ".", R_SUBJ " | " R_URL },
    { "slack.default.fallback", &MIXED, ".", M_SUBJ " | " F_URL },
    { "slack.default.callbackid", &FIRING, ".", "" },
    { "slack.default.pretext", &FIRING, ".", "" },
    { "slack.default.titlelink", &FIRING, ".", F_URL },
    { "slack.default.titlelink", &RESOLVED, ".", R_URL },
    { "slack.default.iconemoji", &FIRING, ".", "" },
    { "slack.default.iconurl", &FIRING, ".", "" },
    { "slack.default.text", &FIRING, ".", "" },
    { "slack.default.footer", &FIRING, ".", "" },
    { "pagerduty.default.description", &FIRING, ".", F_SUBJ },
    { "pagerduty.default.description", &RESOLVED, ".", R_SUBJ },
    { "pagerduty.default.description", &MIXED, ".", M_SUBJ },
    { "pagerduty.default.client", &FIRING, ".", "Alertmanager" },
    { "pagerduty.default.clientURL", &FIRING, ".", F_URL },
    { "pagerduty.default.clientURL", &RESOLVED, ".", R_URL },
    { "pagerduty.default.instances", &FIRING, ".Alerts.Firing", F_LIST },
    { "pagerduty.default.instances", &RESOLVED, ".Alerts.Resolved", R_LIST },
    { "pagerduty.default.instances", &MIXED, ".Alerts.Resolved",
      "Labels:\n - alertname = HighLatency\n - instance = b:9090\n - job = api\nAnnotations:\nSource: "
      "http://prom/m2\n" },
    { "email.default.subject", &FIRING, ".", F_SUBJ },
    { "email.default.subject", &RESOLVED, ".", R_SUBJ },
    { "email.default.subject", &MIXED, ".", M_SUBJ },
};

static void test_defaults(void **state)
{
    (void)state;
    int failed = 0;
    for (size_t i = 0; i < NL(defs); i++) {
        char text[256];
        snprintf(text, sizeof(text), "{{ template \"%s\" %s }}", defs[i].name, defs[i].dot);
        buf_t out = { 0 }, err = { 0 };
        int rc = alerts_tmpl_notify("t", text, strlen(text), defs[i].n, &out, &err);
        const char *got = out.data ? (const char *)out.data : "";
        if (rc != 0 || out.len != strlen(defs[i].want) || memcmp(got, defs[i].want, out.len) != 0) {
            print_error("default %zu (%s %s): rc %d\n  want: %s\n  got:  %.*s%.*s\n", i, defs[i].name, defs[i].dot, rc,
                        defs[i].want, (int)out.len, got, (int)err.len, err.data ? (const char *)err.data : "");
            failed++;
        }
        buf_fini(&out);
        buf_fini(&err);
    }
    assert_int_equal(failed, 0);
}

/* email.default.html against goldens tests/data/alerts/tmpl_notify_email_<fixture>.html
 * (PHAROS_UPDATE_GOLDEN=1 rewrites them; review the diff). */
static void test_email_html(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        const alerts_notification_t *n;
    } g[] = { { "firing", &FIRING }, { "resolved", &RESOLVED }, { "mixed", &MIXED }, { "empty", &EMPTY } };
    static const char text[] = "{{ template \"email.default.html\" . }}";
    for (size_t i = 0; i < NL(g); i++) {
        buf_t out = { 0 }, err = { 0 };
        assert_int_equal(alerts_tmpl_notify("t", text, sizeof(text) - 1, g[i].n, &out, &err), 0);
        char path[512];
        snprintf(path, sizeof(path), "%s/alerts/tmpl_notify_email_%s.html", PHAROS_TEST_DATA, g[i].file);
        if (getenv("PHAROS_UPDATE_GOLDEN") != NULL) {
            FILE *f = fopen(path, "wb");
            assert_non_null(f);
            assert_int_equal(fwrite(out.data, 1, out.len, f), out.len);
            fclose(f);
        }
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        char *want = malloc(out.len + 2);
        size_t n = fread(want, 1, out.len + 1, f);
        fclose(f);
        if (n != out.len || memcmp(want, out.data, n) != 0) {
            print_error("%s differs from email.default.html for %s:\n%.*s\n", path, g[i].file, (int)out.len,
                        (char *)out.data);
            fail();
        }
        /* Alertmanager's subject inside the document's title */
        assert_non_null(strstr((char *)out.data, "<title>"));
        free(want);
        buf_fini(&out);
        buf_fini(&err);
    }
}

/* alerts_tmpl_notify_html: action output escaped unless safeHtml/html made it. */
static void test_html_mode(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } h[] = {
        { "<p>{{ (index .Alerts 0).Annotations.description }}</p>", "<p>Disk &lt;90%&gt; &amp; &#34;full&#34;</p>" },
        { "{{ safeHtml \"<b>x</b>\" }}", "<b>x</b>" },
        { "{{ html \"<\" }}{{ \"'\" }}", "&lt;&#39;" },
        { "{{ printf \"%s\" (safeHtml \"<i>\") }}", "&lt;i&gt;" },
        { "{{ len .Alerts }} {{ .CommonLabels }}", "2 alertname=DiskFull, instance=db1, severity=ticket" },
        { "<a href=\"{{ template \"__alertmanagerURL\" . }}\">",
          "<a href=\"http://am.example:9093/#/alerts?receiver=team-X%5C.db\">" },
    };
    for (size_t i = 0; i < NL(h); i++) {
        buf_t out = { 0 }, err = { 0 };
        assert_int_equal(alerts_tmpl_notify_html("t", h[i].text, strlen(h[i].text), &RESOLVED, &out, &err), 0);
        if (out.len != strlen(h[i].want) || memcmp(out.data, h[i].want, out.len) != 0) {
            print_error("html %zu: want %s\n  got %.*s\n", i, h[i].want, (int)out.len, (char *)out.data);
            fail();
        }
        buf_fini(&out);
        buf_fini(&err);
    }
    /* the default email body renders the same in both modes */
    static const char text[] = "{{ template \"email.default.html\" . }}";
    buf_t a = { 0 }, b = { 0 }, err = { 0 };
    assert_int_equal(alerts_tmpl_notify("t", text, sizeof(text) - 1, &RESOLVED, &a, &err), 0);
    assert_int_equal(alerts_tmpl_notify_html("t", text, sizeof(text) - 1, &RESOLVED, &b, &err), 0);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    buf_fini(&a);
    buf_fini(&b);
    buf_fini(&err);
}

/* Every prefix of every case renders or fails cleanly (ASan checks). */
static void test_truncations(void **state)
{
    (void)state;
    for (size_t i = 0; i < NL(cases); i++) {
        size_t len = strlen(cases[i].text);
        for (size_t k = 0; k < len; k++) {
            char *copy = malloc(k + 1); /* exact size: ASan catches overreads */
            memcpy(copy, cases[i].text, k);
            buf_t out = { 0 }, err = { 0 };
            int rc = alerts_tmpl_notify("t", copy, k, cases[i].n, &out, &err);
            if (rc != 0) {
                assert_true(err.len > 10 && memcmp(err.data, "template: ", 10) == 0);
                assert_int_equal(out.len, 0);
            }
            buf_fini(&out);
            buf_fini(&err);
            free(copy);
        }
    }
}

/* Every byte of every case replaced by hostile bytes. */
static void test_hostile_bytes(void **state)
{
    (void)state;
    static const char hostile[] = { '\0', 0x7f, (char)0xff, (char)0xc2, '{', '}', '"', '`',  '(',  ')',
                                    '|',  '$',  '.',        '-',        ' ', '1', 'x', '\'', '\\', '\n' };
    for (size_t i = 0; i < NL(cases); i++) {
        size_t len = strlen(cases[i].text);
        char *copy = malloc(len + 1);
        for (size_t k = 0; k < len; k++) {
            for (size_t h = 0; h < sizeof(hostile); h++) {
                memcpy(copy, cases[i].text, len);
                copy[k] = hostile[h];
                buf_t out = { 0 }, err = { 0 };
                int rc = alerts_tmpl_notify("t", copy, len, cases[i].n, &out, &err);
                assert_true(rc == 0 || (err.len > 10 && memcmp(err.data, "template: ", 10) == 0));
                buf_fini(&out);
                buf_fini(&err);
            }
        }
        free(copy);
    }
}

static void expect_error(const char *text, const char *needle)
{
    buf_t out = { 0 }, err = { 0 };
    int rc = alerts_tmpl_notify("t", text, strlen(text), &FIRING, &out, &err);
    if (rc == 0 || strstr(err.data ? (char *)err.data : "", needle) == NULL) {
        print_error("%s: rc %d, err %.*s\n", text, rc, (int)err.len, err.data ? (char *)err.data : "");
        fail();
    }
    assert_int_equal(out.len, 0);
    buf_fini(&out);
    buf_fini(&err);
}

static void test_bounds(void **state)
{
    (void)state;
    /* mutual recursion, output doubling, endless ranges */
    expect_error("{{ define \"a\" }}{{ template \"b\" . }}{{ end }}{{ define \"b\" }}{{ template \"a\" . }}{{ end }}"
                 "{{ template \"a\" . }}",
                 "exceeded maximum template depth (100)");
    expect_error(
        "{{ define \"d\" }}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{{ "
        "end }}"
        "{{ define \"d2\" }}{{ template \"d\" }}{{ template \"d\" }}{{ template \"d\" }}{{ template \"d\" }}{{ end }}"
        "{{ define \"d3\" }}{{ template \"d2\" }}{{ template \"d2\" }}{{ template \"d2\" }}{{ template \"d2\" }}"
        "{{ end }}{{ define \"d4\" }}{{ template \"d3\" }}{{ template \"d3\" }}{{ template \"d3\" }}{{ template "
        "\"d3\" }}{{ end }}{{ define \"d5\" }}{{ template \"d4\" }}{{ template \"d4\" }}{{ template \"d4\" }}{{ "
        "template \"d4\" }}{{ end }}{{ define \"d6\" }}{{ template \"d5\" }}{{ template \"d5\" }}{{ template "
        "\"d5\" }}{{ template \"d5\" }}{{ end }}{{ define \"d7\" }}{{ template \"d6\" }}{{ template \"d6\" }}{{ "
        "template \"d6\" }}{{ template \"d6\" }}{{ end }}{{ template \"d7\" }}{{ template \"d7\" }}{{ template \"d7\" "
        "}}",
        "template output exceeds 1048576 bytes");
    expect_error("{{ range .Alerts }}{{ range $.Alerts }}{{ range $.Alerts }}{{ range $.Alerts }}{{ range $.Alerts }}"
                 "{{ range $.Alerts }}{{ range $.Alerts }}{{ range $.Alerts }}{{ range $.Alerts }}{{ range $.Alerts }}"
                 "{{ range $.Alerts }}{{ range $.Alerts }}{{ range $.Alerts }}{{ range $.Alerts }}{{ range $.Alerts }}"
                 "{{ range $.Alerts }}{{ range $.Alerts }}{{ range $.Alerts }}{{ range $.Alerts }}{{ range $.Alerts }}"
                 "{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}"
                 "{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}",
                 "template execution exceeds 1000000 steps");
    /* deep bodies in deep recursion: the C stack stays bounded */
    buf_t deep = { 0 };
    buf_puts(&deep, "{{ define \"r\" }}");
    for (int i = 0; i < 97; i++) {
        buf_puts(&deep, "{{ with (or 1) }}");
    }
    buf_puts(&deep, "{{ template \"r\" (or .) }}");
    for (int i = 0; i < 97; i++) {
        buf_puts(&deep, "{{ end }}");
    }
    buf_puts(&deep, "{{ end }}{{ template \"r\" . }}");
    buf_putc(&deep, '\0');
    expect_error((char *)deep.data, "exceeded maximum nesting depth (200)");
    buf_fini(&deep);
    /* an empty text renders nothing without parsing, as ExecuteTextString */
    buf_t out = { 0 }, err = { 0 };
    assert_int_equal(alerts_tmpl_notify("t", "", 0, &FIRING, &out, &err), 0);
    assert_int_equal(out.len + err.len, 0);
    /* output is appended after what out holds; kept on error */
    buf_puts(&out, "keep:");
    assert_int_equal(alerts_tmpl_notify("t", "{{ .Status }}", 13, &FIRING, &out, &err), 0);
    assert_int_equal(out.len, 11);
    assert_memory_equal(out.data, "keep:firing", 11);
    assert_int_equal(alerts_tmpl_notify("t", "x{{ .Nope }}", 12, &FIRING, &out, &err), -1);
    assert_int_equal(out.len, 11);
    assert_string_equal((char *)out.data, "keep:firing"); /* still NUL-terminated */
    buf_fini(&out);
    buf_fini(&err);
}

/* The defaults parse as one set and every name renders for every fixture
 * with `.` (the Data) or, for the alert lists, .Alerts. */
static void test_defaults_all_render(void **state)
{
    (void)state;
    static const alerts_notification_t *const fx[] = { &FIRING, &RESOLVED, &MIXED, &EMPTY };
    for (size_t d = 0; d < tmpl_ndefaults; d++) {
        arena_t *a = arena_create(4096);
        buf_t err = { 0 };
        alerts_tmpl_t *t = NULL;
        assert_int_equal(tmpl_parse(a, "d", tmpl_defaults[d], strlen(tmpl_defaults[d]), &tmpl_functab_am, &t, &err), 0);
        for (const tmpl_def_t *def = t->defs; def != NULL; def = def->next) {
            bool list = strstr(def->name, "alert_list") != NULL || strstr(def->name, "instances") != NULL ||
                        strcmp(def->name, "__email_alert_html") == 0;
            for (size_t i = 0; i < NL(fx); i++) {
                char text[256];
                snprintf(text, sizeof(text), "{{ template \"%s\" %s }}", def->name,
                         strcmp(def->name, "__email_alert_html") == 0 ? "(index .Alerts 0)"
                         : list                                       ? ".Alerts"
                                                                      : ".");
                if (fx[i]->nalerts == 0 && strcmp(def->name, "__email_alert_html") == 0) {
                    continue;
                }
                buf_t out = { 0 };
                if (alerts_tmpl_notify("t", text, strlen(text), fx[i], &out, &err) != 0) {
                    print_error("%s: %.*s\n", text, (int)err.len, (char *)err.data);
                    fail();
                }
                buf_fini(&out);
            }
        }
        buf_fini(&err);
        arena_destroy(a);
    }
}

static void render(const ncase_t *c, const char *text, size_t len, buf_t *out)
{
    buf_t err = { 0 };
    size_t start = out->len;
    if (alerts_tmpl_notify("t", text, len, c->n, out, &err) != 0) {
        assert_int_equal(out->len, start); /* nothing partial on error */
        buf_puts(out, ERR);
        buf_append(out, err.data, err.len);
    } else {
        assert_int_equal(err.len, 0);
    }
    buf_fini(&err);
}

static bool matches(const char *want, const buf_t *got)
{
    size_t wl = strlen(want);
    const char *g = got->data ? (const char *)got->data : "";
    /* an error expectation ending in a value print may be a prefix */
    if (strncmp(want, ERR, 4) == 0 && strstr(want, "range can't iterate") != NULL) {
        return got->len >= wl && memcmp(g, want, wl) == 0;
    }
    return got->len == wl && memcmp(g, want, wl) == 0;
}

static void test_cases(void **state)
{
    (void)state;
    int failed = 0;
    for (size_t i = 0; i < NL(cases); i++) {
        buf_t out = { 0 };
        render(&cases[i], cases[i].text, strlen(cases[i].text), &out);
        if (!matches(cases[i].want, &out)) {
            print_error("case %zu (%s):\n  text: %s\n  want: %s\n  got:  %.*s\n", i, cases[i].cite, cases[i].text,
                        cases[i].want, (int)out.len, out.data ? (const char *)out.data : "");
            failed++;
        }
        buf_fini(&out);
    }
    print_message("%zu cases\n", NL(cases));
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_defaults_all_render),
        cmocka_unit_test(test_email_html),
        cmocka_unit_test(test_html_mode),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_hostile_bytes),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

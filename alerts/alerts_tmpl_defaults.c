/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_tmpl_defaults: the named templates Alertmanager ships
 * (template/default.tmpl and email.tmpl), written for Pharos: each renders
 * what Alertmanager's renders for the same data (subjects, Slack, PagerDuty
 * and the alert lists byte for byte; email.default.html is a smaller HTML
 * document of the same structure: header, a "View in Alertmanager" link,
 * firing then resolved alerts with their labels, annotations and source).
 *
 * Core idea: template texts parsed beneath every notification text that
 * calls a template, so users' {{define}}s replace these by name.
 *
 * Invariants: the text parses with Alertmanager's function table (the
 * unit test renders every name); values in the HTML pass through `html`,
 * since pharos renders notification texts as text/template does.
 */
#include <stddef.h>

#include "alerts/alerts_int.h"

const char tmpl_defaults_name[] = "default.tmpl";

/* In parts: ISO C bounds a string literal to 4095 bytes. */
const char *const tmpl_defaults[] = {
    /* shared pieces */
    "{{ define \"__alertmanager\" }}Alertmanager{{ end }}\n"
    "{{ define \"__alertmanagerURL\" }}{{ .ExternalURL }}/#/alerts?receiver={{ urlquery .Receiver }}{{ end }}\n"
    "{{ define \"__subject\" -}}\n"
    "  [{{ toUpper .Status }}{{ if eq .Status \"firing\" }}:{{ len .Alerts.Firing }}{{ end }}]\n"
    "  {{- \" \" }}{{ join \" \" .GroupLabels.SortedPairs.Values }}{{ \" \" }}\n"
    "  {{- if gt (len .CommonLabels) (len .GroupLabels) -}}\n"
    "    ({{ with .CommonLabels.Remove .GroupLabels.Names }}{{ join \" \" .Values }}{{ end }})\n"
    "  {{- end }}\n"
    "{{- end }}\n"
    "{{ define \"__description\" }}{{ end }}\n"
    "{{ define \"__text_alert_list\" -}}\n"
    "  {{- range . -}}\n"
    "    {{- \"Labels:\\n\" }}\n"
    "    {{- range .Labels.SortedPairs }}{{ printf \" - %s = %s\\n\" .Name .Value }}{{ end }}\n"
    "    {{- \"Annotations:\\n\" }}\n"
    "    {{- range .Annotations.SortedPairs }}{{ printf \" - %s = %s\\n\" .Name .Value }}{{ end }}\n"
    "    {{- printf \"Source: %s\\n\" .GeneratorURL }}\n"
    "  {{- end -}}\n"
    "{{- end }}\n"
    "{{ define \"__text_alert_list_markdown\" -}}\n"
    "  {{- range . -}}\n"
    "    {{- \"\\nLabels:\\n\" }}\n"
    "    {{- range .Labels.SortedPairs }}{{ printf \"  - %s = %s\\n\" .Name .Value }}{{ end }}\n"
    "    {{- \"\\nAnnotations:\\n\" }}\n"
    "    {{- range .Annotations.SortedPairs }}{{ printf \"  - %s = %s\\n\" .Name .Value }}{{ end }}\n"
    "    {{- printf \"\\nSource: %s\\n\" .GeneratorURL }}\n"
    "  {{- end }}\n"
    "{{ end }}\n",
    /* Slack */
    "{{ define \"slack.default.title\" }}{{ template \"__subject\" . }}{{ end }}\n"
    "{{ define \"slack.default.username\" }}{{ template \"__alertmanager\" . }}{{ end }}\n"
    "{{ define \"slack.default.fallback\" -}}\n"
    "  {{ template \"slack.default.title\" . }} | {{ template \"slack.default.titlelink\" . }}\n"
    "{{- end }}\n"
    "{{ define \"slack.default.callbackid\" }}{{ end }}\n"
    "{{ define \"slack.default.pretext\" }}{{ end }}\n"
    "{{ define \"slack.default.titlelink\" }}{{ template \"__alertmanagerURL\" . }}{{ end }}\n"
    "{{ define \"slack.default.iconemoji\" }}{{ end }}\n"
    "{{ define \"slack.default.iconurl\" }}{{ end }}\n"
    "{{ define \"slack.default.text\" }}{{ end }}\n"
    "{{ define \"slack.default.footer\" }}{{ end }}\n"
    /* PagerDuty */
    "{{ define \"pagerduty.default.description\" }}{{ template \"__subject\" . }}{{ end }}\n"
    "{{ define \"pagerduty.default.client\" }}{{ template \"__alertmanager\" . }}{{ end }}\n"
    "{{ define \"pagerduty.default.clientURL\" }}{{ template \"__alertmanagerURL\" . }}{{ end }}\n"
    "{{ define \"pagerduty.default.instances\" }}{{ template \"__text_alert_list\" . }}{{ end }}\n",
    /* email */
    "{{ define \"email.default.subject\" }}{{ template \"__subject\" . }}{{ end }}\n"
    "{{ define \"__subject_html\" -}}\n"
    "  [{{ toUpper .Status }}{{ if eq .Status \"firing\" }}:{{ len .Alerts.Firing }}{{ end }}]\n"
    "  {{- \" \" }}{{ html (join \" \" .GroupLabels.SortedPairs.Values) }}{{ \" \" }}\n"
    "  {{- if gt (len .CommonLabels) (len .GroupLabels) -}}\n"
    "    ({{ with .CommonLabels.Remove .GroupLabels.Names }}{{ html (join \" \" .Values) }}{{ end }})\n"
    "  {{- end }}\n"
    "{{- end }}\n"
    "{{ define \"__email_alert_html\" -}}\n"
    "<tr><td class=\"alert\">\n"
    "<strong>Labels</strong><br />\n"
    "{{ range .Labels.SortedPairs }}{{ html .Name }} = {{ html .Value }}<br />\n{{ end }}"
    "{{ if gt (len .Annotations) 0 }}<strong>Annotations</strong><br />\n{{ end }}"
    "{{ range .Annotations.SortedPairs }}{{ html .Name }} = {{ html .Value }}<br />\n{{ end }}"
    "<a href=\"{{ html .GeneratorURL }}\">Source</a><br />\n"
    "</td></tr>\n"
    "{{- end }}\n",
    "{{ define \"email.default.html\" -}}\n"
    "<!DOCTYPE html>\n"
    "<html>\n"
    "<head>\n"
    "<meta name=\"viewport\" content=\"width=device-width\" />\n"
    "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\" />\n"
    "<title>{{ template \"__subject_html\" . }}</title>\n"
    "<style>\n"
    "body { font-family: 'Helvetica Neue', Helvetica, Arial, sans-serif; font-size: 14px; background-color: #f6f6f6; "
    "margin: 0; }\n"
    ".main { max-width: 600px; margin: 0 auto; background-color: #fff; border: 1px solid #e9e9e9; }\n"
    ".header { font-size: 16px; color: #fff; font-weight: 500; text-align: center; background-color: #E6522C; "
    "padding: 20px; }\n"
    ".alert { padding: 0 10px 20px; }\n"
    ".btn { color: #fff; background-color: #348eda; padding: 10px 20px; text-decoration: none; font-weight: bold; }\n"
    ".footer { font-size: 12px; color: #999; text-align: center; padding: 20px; }\n"
    "</style>\n"
    "</head>\n"
    "<body>\n"
    "<table class=\"main\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\">\n"
    "<tr><td class=\"header\">\n"
    "{{ len .Alerts }} alert{{ if gt (len .Alerts) 1 }}s{{ end }} for"
    "{{ range .GroupLabels.SortedPairs }} {{ html .Name }}={{ html .Value }}{{ end }}\n"
    "</td></tr>\n"
    "<tr><td class=\"alert\"><br /><a class=\"btn\" href=\"{{ template \"__alertmanagerURL\" . }}\">"
    "View in {{ template \"__alertmanager\" . }}</a></td></tr>\n"
    "{{ if gt (len .Alerts.Firing) 0 -}}\n"
    "<tr><td class=\"alert\"><strong>[{{ len .Alerts.Firing }}] Firing</strong></td></tr>\n"
    "{{ range .Alerts.Firing }}{{ template \"__email_alert_html\" . }}\n{{ end -}}\n"
    "{{ end -}}\n"
    "{{ if gt (len .Alerts.Resolved) 0 -}}\n"
    "{{ if gt (len .Alerts.Firing) 0 }}<tr><td class=\"alert\"><hr /></td></tr>\n{{ end -}}\n"
    "<tr><td class=\"alert\"><strong>[{{ len .Alerts.Resolved }}] Resolved</strong></td></tr>\n"
    "{{ range .Alerts.Resolved }}{{ template \"__email_alert_html\" . }}\n{{ end -}}\n"
    "{{ end -}}\n"
    "</table>\n"
    "<div class=\"footer\"><a href=\"{{ html .ExternalURL }}\">Sent by {{ template \"__alertmanager\" . }}</a></div>\n"
    "</body>\n"
    "</html>\n"
    "{{ end }}\n",
};

const size_t tmpl_ndefaults = sizeof(tmpl_defaults) / sizeof(tmpl_defaults[0]);

#!/bin/sh
# The part of the official nginx image's entrypoint that docker/compose.yaml uses, for the stand-in
# image (Containerfile next to this file). Before `nginx …` starts: every executable
# /docker-entrypoint.d/*.envsh is sourced and every executable *.sh run, in name order; then each
# /etc/nginx/templates/NAME.template becomes /etc/nginx/conf.d/NAME with envsubst, restricted to the
# variables whose names match the regular expression NGINX_ENVSUBST_FILTER (all when unset).
set -eu
if [ "$1" = nginx ]; then
  for script in $(find /docker-entrypoint.d -follow -type f | sort -V); do
    [ -x "$script" ] || { echo "$0: ignoring $script (not executable)"; continue; }
    case "$script" in
      *.envsh) echo "$0: sourcing $script"; . "$script" ;;
      *.sh) echo "$0: running $script"; "$script" ;;
    esac
  done
  names=$(awk -v filter="${NGINX_ENVSUBST_FILTER:-}" \
    'END { for (name in ENVIRON) if (name ~ filter) printf "${%s} ", name }' </dev/null)
  for template in /etc/nginx/templates/*.template; do
    [ -f "$template" ] || continue
    output=/etc/nginx/conf.d/$(basename "$template" .template)
    echo "$0: envsubst $template > $output"
    envsubst "$names" <"$template" >"$output"
  done
fi
exec "$@"

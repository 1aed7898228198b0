# shellcheck shell=bash
# shellcheck disable=SC2034  # FAIL_LOG and FAIL_REASON are read by hack/testbed, which sources this file
# Not a server: the programs and libraries the storage services run beside Python, from Debian
# (ffmpeg for video posters, libmagic for telling a file's type). Nothing to start or stop.

register_server mediatools "ffmpeg, libmagic" "$LOG_DIR/apt.log" \
  "QUCKCHAT_TEST_FFMPEG=/usr/bin/ffmpeg" ffmpeg

install_mediatools() {
  check_mediatools || ensure_packages ffmpeg libmagic1
}

check_mediatools() {
  [[ -x /usr/bin/ffmpeg ]] && ldconfig -p 2>/dev/null | grep 'libmagic\.so\.1' >/dev/null
}

mediatools_running() { check_mediatools; }
start_mediatools() { check_mediatools; }
stop_mediatools() { return 0; }

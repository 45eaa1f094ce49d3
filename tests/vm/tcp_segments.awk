# The VM lane's id check (busybox awk; the guest has no python): reads
# `retisc print --format single-line` and prints "M N": M of the N tracking
# ids that hold a TCP segment hold more than one. A segment is (source >
# destination, SYN/FIN/RST, seq[:end]), so a retransmission is the same
# segment and the next one is not. tests/live/check_tracking.py does the
# same from the raw packet bytes on the host.
/ proto TCP \(6\) flags \[/ {
	id = ""
	for (i = 1; i <= NF; i++) {
		if ($i ~ /^#[0-9a-f]+$/)
			id = $i
		if ($i == ">" && src == "")
			src = $(i - 1) ">" $(i + 1)
	}
	match($0, /flags \[[^]]*\]/)
	f = substr($0, RSTART + 7, RLENGTH - 8)
	gsub(/[^SFR]/, "", f)
	match($0, / seq [0-9:]+/)
	k = id " " src " " f " " substr($0, RSTART + 5, RLENGTH - 5)
	src = ""
	if (!(k in seen)) {
		seen[k] = 1
		n[id]++
	}
}
END {
	m = 0
	t = 0
	for (i in n) {
		t++
		if (n[i] > 1)
			m++
	}
	print m, t
}

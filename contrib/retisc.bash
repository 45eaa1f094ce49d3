# SPDX-License-Identifier: GPL-2.0-only
# bash completion for retisc(8).

_retisc_profiles()
{
	# Names from `retisc profile list` (lines "  <name> <about>").
	"$1" ${2:+-P "$2"} profile list 2>/dev/null | sed -n 's/^  \([^ ]*\) .*/\1/p'
}

_retisc_processors()
{
	"$1" process --help 2>/dev/null | sed -n 's/^  \([^ ]*\) .*/\1/p'
}

# Collectors of the loaded plugins ("collector NAME (" in `plugin list`).
_retisc_collectors()
{
	"$1" plugin list 2>/dev/null | grep -o 'collector [a-z0-9-]* (' | cut -d' ' -f2
}

# Options of a subcommand or processor, from its --help (sort, pcap,
# collect with its collectors' options, third-party ones).
_retisc_processor_opts()
{
	"$1" "$2" --help 2>/dev/null | grep -oE '(^|[ ,])--?[a-zA-Z][a-zA-Z0-9-]*' | tr -d ' ,' |
		sort -u
}

_retisc()
{
	local cur prev words cword
	_init_completion || return

	local global_opts="--log-level --plugin-dir -p --profile -P --extra-profiles-dir
		-h --help -V --version"
	local commands="collect inspect process plugin profile sh-complete
		$(_retisc_processors "${words[0]}")"
	local cmd="" i profdir=""

	# Find the subcommand (first word that is neither a global option nor
	# its value) and a -P directory.
	for ((i = 1; i < cword; i++)); do
		case "${words[i]}" in
		--log-level | --plugin-dir | -p | --profile)
			((i++))
			;;
		-P | --extra-profiles-dir)
			profdir="${words[i + 1]}"
			((i++))
			;;
		-*) ;;
		*)
			cmd="${words[i]}"
			break
			;;
		esac
	done

	if [[ -z $cmd ]]; then
		case "$prev" in
		--log-level)
			COMPREPLY=($(compgen -W "error warn info debug trace" -- "$cur"))
			return
			;;
		--plugin-dir | -P | --extra-profiles-dir)
			_filedir -d
			return
			;;
		-p | --profile)
			compopt -o filenames
			COMPREPLY=($(compgen -W "$(_retisc_profiles "${words[0]}" "$profdir")" -- "$cur")
				$(compgen -f -X '!*.y*ml' -- "$cur"))
			return
			;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$global_opts" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		fi
		return
	fi

	case "$cmd" in
	col*)
		case "$prev" in
		-c | --collectors)
			COMPREPLY=($(compgen -W "auto $(_retisc_collectors "${words[0]}")" -- "$cur"))
			return
			;;
		--format)
			COMPREPLY=($(compgen -W "single-line multi-line" -- "$cur"))
			return
			;;
		--tracking-mode)
			COMPREPLY=($(compgen -W "auto kprobe tracepoint off" -- "$cur"))
			return
			;;
		--tracking-kmem | --tracking-guard)
			COMPREPLY=($(compgen -W "on off" -- "$cur"))
			return
			;;
		-o | --out | --kconf)
			_filedir
			return
			;;
		-p | --probe | -f | --filter-packet | -m | --filter-meta | --cmd | --stop-after | \
			--out-rotate | --ring-size | --tracking-map-size | --skb-sections)
			return
			;;
		esac
		# Core and collector options, from collect's help (third-party
		# collectors' options included).
		COMPREPLY=($(compgen -W "$(_retisc_processor_opts "${words[0]}" collect)" -- "$cur"))
		;;
	pri*)
		case "$prev" in
		--format)
			COMPREPLY=($(compgen -W "single-line multi-line" -- "$cur"))
			return
			;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--format --utc -e -h --help" -- "$cur"))
		else
			_filedir
		fi
		;;
	exp* | rep*)
		case "$prev" in
		--format)
			COMPREPLY=($(compgen -W "text json" -- "$cur"))
			return
			;;
		-o | --out)
			_filedir html
			return
			;;
		--series | --max-rows | --max-buffer | --in-flight | --max-flows)
			return
			;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$(_retisc_processor_opts "${words[0]}" "$cmd")" -- "$cur"))
		else
			_filedir
		fi
		;;
	proc*)
		if [[ $prev == "$cmd" ]]; then
			COMPREPLY=($(compgen -W "$(_retisc_processors "${words[0]}")" -- "$cur"))
		else
			_filedir
		fi
		;;
	plu*)
		[[ $prev == "$cmd" ]] && COMPREPLY=($(compgen -W "list" -- "$cur"))
		;;
	ins*)
		COMPREPLY=($(compgen -W "-p --probe -h --help" -- "$cur"))
		;;
	sh-*)
		if [[ $prev == --shell ]]; then
			COMPREPLY=($(compgen -W "bash" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "--shell -h --help" -- "$cur"))
		fi
		;;
	prof*)
		[[ $prev == "$cmd" ]] && COMPREPLY=($(compgen -W "list" -- "$cur"))
		;;
	*)
		case "$prev" in
		-o | --out)
			_filedir
			return
			;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$(_retisc_processor_opts "${words[0]}" "$cmd")" -- "$cur"))
		else
			_filedir
		fi
		;;
	esac
} && complete -F _retisc retisc

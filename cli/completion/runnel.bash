# bash completion for runnel, the client of runneld.
# Installed as share/bash-completion/completions/runnel; or source it.

_runnel_spec_opts='-q --queue -p --priority -n --name -e --env --cwd -t --timeout
-r --retries -a --after -d --delay --at -l --limit --webhook --idempotency-key
--stdin --argv --shell'

_runnel()
{
	local cur prev cmd sub i
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	local cmds='run add upload ls show log wait cancel retry rm queue
schedule stats workers help'

	if [[ $COMP_CWORD -eq 1 ]]; then
		COMPREPLY=($(compgen -W "$cmds --help --version" -- "$cur"))
		return 0
	fi
	cmd=${COMP_WORDS[1]}
	sub=${COMP_WORDS[2]}

	# the command after "--" is the job's: complete it as a command line
	for ((i = 2; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} == -- ]]; then
			COMPREPLY=($(compgen -c -- "$cur"))
			[[ $i -lt $((COMP_CWORD - 1)) ]] &&
			    COMPREPLY=($(compgen -f -- "$cur"))
			return 0
		fi
	done

	case $prev in
	-s|--state)
		local pre='' states='scheduled queued running succeeded failed canceled'
		[[ $cur == *,* ]] && pre=${cur%,*},
		COMPREPLY=($(compgen -P "$pre" -W "$states" -- "${cur##*,}"))
		return 0 ;;
	--type)
		COMPREPLY=($(compgen -W 'command upload' -- "$cur")); return 0 ;;
	--overlap)
		COMPREPLY=($(compgen -W 'allow skip queue cancel' -- "$cur"))
		return 0 ;;
	--concurrency)
		COMPREPLY=($(compgen -W 'none 1 2 4 8' -- "$cur")); return 0 ;;
	-l|--limit)
		if [[ $cmd != ls ]]; then
			COMPREPLY=($(compgen -W 'mem= cpu= files= procs= output=' \
			    -- "$cur"))
			compopt -o nospace 2>/dev/null
		fi
		return 0 ;;
	--stdin)
		COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
	--cwd)
		COMPREPLY=($(compgen -d -- "$cur")); return 0 ;;
	--tz)
		local z=${TZDIR:-/usr/share/zoneinfo}
		COMPREPLY=($(cd "$z" 2>/dev/null && compgen -f -- "$cur"))
		return 0 ;;
	--url|-q|--queue|-p|--priority|-n|--name|-e|--env|-t|--timeout|\
	-r|--retries|-a|--after|-d|--delay|--at|--webhook|--idempotency-key|\
	--before|--attempt|--as|--cron)
		return 0 ;;
	esac

	local opts='--url --help'
	case $cmd in
	run) opts="$opts $_runnel_spec_opts" ;;
	add) opts="$opts --json $_runnel_spec_opts" ;;
	upload)
		opts="$opts --json --as --no-progress $_runnel_spec_opts"
		if [[ $cur != -* ]]; then
			COMPREPLY=($(compgen -f -- "$cur")); return 0
		fi ;;
	ls) opts="$opts --json -s --state -q --queue --type -n --limit --before" ;;
	show) opts="$opts --json" ;;
	log) opts="$opts -f --follow --attempt -e --stderr" ;;
	stats|workers) opts="$opts --json" ;;
	help)
		COMPREPLY=($(compgen -W "$cmds" -- "$cur")); return 0 ;;
	queue)
		if [[ $COMP_CWORD -eq 2 ]]; then
			COMPREPLY=($(compgen -W 'ls pause resume set' -- "$cur"))
			return 0
		fi
		case $sub in
		ls) opts="$opts --json" ;;
		set) opts="$opts --json --concurrency" ;;
		*) opts="$opts --json" ;;
		esac ;;
	schedule)
		if [[ $COMP_CWORD -eq 2 ]]; then
			COMPREPLY=($(compgen -W 'ls add rm trigger' -- "$cur"))
			return 0
		fi
		case $sub in
		add) opts="$opts --json --cron --tz --name --overlap
$_runnel_spec_opts" ;;
		*) opts="$opts --json" ;;
		esac ;;
	esac
	COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	return 0
}
complete -F _runnel runnel

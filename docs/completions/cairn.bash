# bash completion for cairn
_cairn() {
  local cur=${COMP_WORDS[COMP_CWORD]} verb=${COMP_WORDS[1]}
  local verbs="init new validate tick status log classify clear doctor catalog forge"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "$verbs --help --version" -- "$cur"))
    return
  fi
  local flags="--help"
  case $verb in
    init) flags+=" --forge --commit --cron --install" ;;
    validate) flags+=" --staged --json --quiet" ;;
    new) flags+=" --template" ;;
    doctor) flags+=" --json" ;;
    tick) flags+=" --dry-run --force --only --json --watch --max-sleep --poll" ;;
    status) flags+=" --json --learnings" ;;
    clear) flags+=" --reason" ;;
    classify) flags+=" --state" ;;
    catalog) flags+=" promote --from" ;;
  esac
  case $cur in
    -*) COMPREPLY=($(compgen -W "$flags" -- "$cur")) ;;
    *)
      case $verb in
        log | clear | new) COMPREPLY=($(compgen -W "$(cairn status --json 2>/dev/null | grep -o '"campaign": *"[^"]*"' | cut -d'"' -f4)" -- "$cur")) ;;
        *) COMPREPLY=($(compgen -f -- "$cur")) ;;
      esac
      ;;
  esac
}
complete -F _cairn cairn

"""Operations rules that apply to every target: tags/labels, log retention, protection."""

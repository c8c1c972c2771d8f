"""The pipeline's user-facing words, in Chinese and English.

Words come from ``configs/labels.yaml`` (``pipeline_*`` terms). The few terms this version
added and labels.yaml does not hold yet live in ``_NEW_TERMS`` until they move there.
"""

from __future__ import annotations

from ..labels import check_lang, term

# TODO(integrator): move these into configs/labels.yaml (terms section) and delete this dict.
_NEW_TERMS = {
    "pipeline_source_frame": {"zh": "DataFrame（{rows} 行）", "en": "DataFrame ({rows} rows)"},
    "pipeline_status_failed": {"zh": "失败", "en": "failed"},
    "pipeline_status_not_champion": {"zh": "未发布（不是 @champion）",
                                     "en": "not published (not @champion)"},
    "pipeline_champion": {"zh": "冠军比较：{decision}（{reason}）",
                          "en": "Champion comparison: {decision} ({reason})"},
    "pipeline_decision_promote": {"zh": "晋升", "en": "promote"},
    "pipeline_decision_keep": {"zh": "保留现任冠军", "en": "keep the champion"},
    "pipeline_decision_no_champion": {"zh": "尚无冠军", "en": "no champion yet"},
    "pipeline_decision_refused": {"zh": "拒绝比较", "en": "refused"},
    "pipeline_not_published": {
        "zh": "本次运行不是 @champion：models/ 与报告目录保持 @champion 的文件不变",
        "en": "This run is not @champion: models/ and the reports keep @champion's files"},
    "pipeline_fidelity": {
        "zh": "规则与模型一致：{rows:,} 位测试客户，{engines}",
        "en": "Rules equal the model on {rows:,} test customers ({engines})"},
    "pipeline_fidelity_skipped": {"zh": "；未检查：{engines}", "en": "; not checked: {engines}"},
}


def text(key: str, lang: str, **values) -> str:
    """The term ``key`` in ``lang`` with ``values`` filled in."""
    check_lang(lang)
    found = term(key, lang)
    if found == key and key in _NEW_TERMS:
        found = _NEW_TERMS[key][lang]
    return found.format(**values) if values else found

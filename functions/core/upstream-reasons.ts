/**
 * The refusal and failure texts midjourney-proxy servers send in Chinese, in English. The
 * patterns are those servers' own strings (both well-known implementations); a `$1` in the
 * English keeps the variable part (an account id, a count, minutes).
 */
const KNOWN: readonly (readonly [RegExp, string])[] = [
  // the prompt or the image
  [/^可能包含敏感词$/, "the prompt may contain banned words"],
  [/^prompt\s*不能为空$/i, "the prompt is empty"],
  [/^image或prompt不能为空$/, "an image or a prompt is required"],
  [/^base64\s*(?:格式错误|参数错误)$/, "an image is not valid base64"],
  [/^base64不能为空$/, "an image is required"],
  [/^base64或link不能为空$/, "an image or a link is required"],
  [/^base64List参数错误$/, "the list of images is not valid"],
  [/^图片参数错误，2~5张图片$/, "a blend takes 2 to 5 images"],
  [/^dimensions参数错误$/, "the dimensions are not valid"],
  [/^链接格式错误$/, "the link is not valid"],
  [/^禁止上传$/, "uploading images is not allowed"],
  [/^参数错误$/, "the request is not valid"],
  // the task a button or modal refers to
  [/^关联任务不存在或已失效$/, "the related task does not exist or has expired"],
  [/^关联任务状态错误$/, "the related task is not in a state that allows this"],
  [/^关联任务不允许执行变化$/, "the related task does not allow variations"],
  [/^任务类型错误$/, "the task type is not valid"],
  [/^未知的 Action 类型$/, "unknown action"],
  [/^该任务不支持重新生成$/, "this task cannot be rerolled"],
  [/^视频功能未启用$/, "video is not enabled on the upstream"],
  [/^未找到父级任务$/, "the parent task was not found"],
  // capacity: accounts, queues, limits
  [/^无可用的账号实例$/, "no upstream account is available"],
  [/^账号不可用:\s*(.+)$/, "upstream account $1 is not available"],
  [/^实例不(?:存在或不)?可用$/, "the upstream account is not available"],
  [/^并发数已达上限$/, "the upstream's concurrency limit is reached"],
  [/^队列数已达上限$/, "the upstream's queue limit is reached"],
  [/^(?:提交失败，)?队列已满，请稍后(?:尝试|重试)$/, "the upstream queue is full, try again later"],
  [/^排队中，前面还有(\d+)个任务$/, "queued upstream behind $1 tasks"],
  [/^(访客|用户)?今日绘图次数已达上限$/, "the daily image limit is reached"],
  [/^总绘图次数已达上限$/, "the total image limit is reached"],
  // the job itself
  [/^提交失败，系统异常$/, "the upstream failed to submit the job (system error)"],
  [/^提交Imagine任务异常$/, "the upstream failed to submit the imagine job"],
  [/^任务超时$/, "the job timed out upstream"],
  [/^任务提交超时$/, "submitting the job timed out upstream"],
  [/^执行超时\s*(\d+)\s*分钟$/, "the job timed out upstream after $1 minutes"],
  [/^超时，未找到消息$/, "timed out: the upstream found no result message"],
  [/^任务失败，请重试$/, "the job failed upstream, try again"],
  [/^操作失败，请稍后重试$/, "the operation failed upstream, try again later"],
  [/^服务异常，请稍后重试$/, "the upstream service failed, try again later"],
  [/^未知错误(?:，请稍后重试)?$/, "unknown upstream error"],
  [/^不支持的操作$/, "the upstream does not support this operation"],
  [/^未知操作$/, "unknown operation"],
  [/^取消任务$/, "cancelled upstream"],
  [/^强制取消$/, "cancelled upstream (forced)"],
  [/^删除任务$/, "deleted upstream"],
];

const HAN = /\p{Script=Han}/u;

/**
 * The upstream's reason as our `failReason` (English) and `upstreamFailReason` (its own words,
 * kept only when they were translated). A text we do not know is kept as it is, in both
 * languages' stead: guessing would lose what the upstream said. A known text inside a bracketed
 * prefix (`[Banned prompt detected] 可能包含敏感词`) is translated after the prefix.
 */
export function explainUpstreamReason(text: string): {
  failReason: string;
  upstreamFailReason: string | null;
} {
  const original = text.trim();
  if (!HAN.test(original)) return { failReason: original, upstreamFailReason: null };
  const prefix = /^(\[[^\]]*\]\s*)?(.*)$/s.exec(original);
  const head = prefix?.[1] ?? "";
  const body = (prefix?.[2] ?? original).trim();
  for (const [pattern, english] of KNOWN) {
    const match = pattern.exec(body);
    if (match) {
      const translated = english.replace(/\$(\d)/g, (_, i: string) => match[Number(i)] ?? "");
      return { failReason: `${head}${translated}`, upstreamFailReason: original };
    }
  }
  return { failReason: original, upstreamFailReason: null };
}

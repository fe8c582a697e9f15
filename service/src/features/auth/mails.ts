import type { Mail } from '../../platform/mail/index.js';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function passwordResetMail(to: string, nickname: string, link: string, minutes: number): Mail {
  return {
    to,
    subject: '[MATE] 비밀번호 재설정 안내',
    text: `${nickname}님, 안녕하세요.\n\n아래 링크에서 새 비밀번호를 설정해 주세요. 링크는 ${minutes}분 동안 한 번만 사용할 수 있습니다.\n\n${link}\n\n본인이 요청하지 않았다면 이 메일을 무시해 주세요. 비밀번호는 바뀌지 않습니다.\n`,
    html: `<p>${escape(nickname)}님, 안녕하세요.</p><p>아래 링크에서 새 비밀번호를 설정해 주세요. 링크는 ${minutes}분 동안 한 번만 사용할 수 있습니다.</p><p><a href="${escape(link)}">비밀번호 재설정하기</a></p><p>본인이 요청하지 않았다면 이 메일을 무시해 주세요. 비밀번호는 바뀌지 않습니다.</p>`,
  };
}

export function loginIdMail(to: string, nickname: string, loginId: string): Mail {
  return {
    to,
    subject: '[MATE] 아이디 안내',
    text: `${nickname}님의 MATE 아이디는 ${loginId} 입니다.\n\n본인이 요청하지 않았다면 이 메일을 무시해 주세요.\n`,
    html: `<p>${escape(nickname)}님의 MATE 아이디는 <strong>${escape(loginId)}</strong> 입니다.</p><p>본인이 요청하지 않았다면 이 메일을 무시해 주세요.</p>`,
  };
}

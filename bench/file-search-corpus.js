'use strict';
/**
 * Figure 11's labelled set: short policy documents of a company, each with three queries whose
 * relevant document is known — `words`: a question sharing its key words; `typos`: the same
 * question with every content word misspelled (the keyword index, stemmed words, cannot match
 * them; the bench upstream's embeddings, words and character trigrams, partly can); `synonyms`:
 * a paraphrase sharing no content word (only a real embedding model could match it: the fake
 * embeddings cannot, and the figure says so). Distractors are made of generic sentences that
 * every policy shares, so that a query's common words match many documents.
 */

/** @type {Array<{ name: string, text: string, words: string, typos: string, synonyms: string }>} */
const TOPICS = [
  {
    name: 'vacation.txt',
    text: 'Every employee is entitled to twenty-five vacation days per calendar year. Unused vacation days can be carried over until the end of March.',
    words: 'how many vacation days per year',
    typos: 'vacaton dayz yeer',
    synonyms: 'annual leave allowance for staff',
  },
  {
    name: 'travel-expenses.txt',
    text: 'Travel expenses are reimbursed within thirty days after the receipts are submitted. Economy class is the rule for flights shorter than six hours.',
    words: 'reimbursed travel expenses receipts',
    typos: 'reimbursment travle expenes reciepts',
    synonyms: 'getting money back for business trips',
  },
  {
    name: 'parental-leave.txt',
    text: 'Parents receive sixteen weeks of paid parental leave after the birth or adoption of a child. The leave may be split into two periods.',
    words: 'paid parental leave weeks',
    typos: 'parentall leeve weks',
    synonyms: 'time off when a baby arrives',
  },
  {
    name: 'laptop.txt',
    text: 'New hires receive a laptop on their first day. Laptops are replaced every three years, and a broken laptop is swapped by the helpdesk.',
    words: 'laptop replaced every three years',
    typos: 'laptp replacd evry thre yeers',
    synonyms: 'when do I get a new notebook computer',
  },
  {
    name: 'remote-work.txt',
    text: 'Remote work is allowed up to three days per week with the agreement of the team lead. A home office allowance covers a desk and a chair.',
    words: 'remote work days per week',
    typos: 'remot wrok dais weeek',
    synonyms: 'working from my house',
  },
  {
    name: 'security-badge.txt',
    text: 'A lost security badge must be reported to the reception immediately. The badge is deactivated and a replacement badge is printed the same day.',
    words: 'lost security badge reported',
    typos: 'lsot securty bagde reportd',
    synonyms: 'I misplaced my access card',
  },
  {
    name: 'passwords.txt',
    text: 'Passwords must contain at least fourteen characters and are rotated every ninety days. Password managers approved by the security team may be used.',
    words: 'password characters rotated days',
    typos: 'pasword charactrs rotatd',
    synonyms: 'rules for login secrets',
  },
  {
    name: 'sick-leave.txt',
    text: 'An employee who is ill must notify the manager before nine in the morning. A medical certificate is required from the third day of illness.',
    words: 'medical certificate illness day',
    typos: 'medicle certficate ilness',
    synonyms: 'staying home because I feel unwell',
  },
  {
    name: 'pension.txt',
    text: 'The company contributes five percent of the gross salary to the pension fund. Employees may add voluntary contributions each month.',
    words: 'pension fund salary contribution',
    typos: 'penshun fnud salery contribushun',
    synonyms: 'saving for retirement',
  },
  {
    name: 'overtime.txt',
    text: 'Overtime hours are compensated with time in lieu or paid at one hundred and twenty-five percent. Overtime must be approved in advance.',
    words: 'overtime hours compensated approved',
    typos: 'overtme houres compensatd aproved',
    synonyms: 'extra work beyond the normal schedule',
  },
  {
    name: 'gifts.txt',
    text: 'Gifts from suppliers worth more than fifty euros must be declared to compliance. Invitations to events are accepted only with approval.',
    words: 'gifts from suppliers declared compliance',
    typos: 'gfits supplers declaired complaince',
    synonyms: 'presents offered by vendors',
  },
  {
    name: 'parking.txt',
    text: 'Parking spaces in the garage are assigned by lottery each quarter. Bicycles can be parked for free in the courtyard.',
    words: 'parking spaces garage lottery',
    typos: 'parkng spacs garge lotery',
    synonyms: 'where to leave my car at the office',
  },
  {
    name: 'training.txt',
    text: 'Each employee has a training budget of two thousand euros per year for courses, conferences and certifications.',
    words: 'training budget courses conferences',
    typos: 'trainning budjet coarses conferances',
    synonyms: 'money for learning and education',
  },
  {
    name: 'data-retention.txt',
    text: 'Customer records are retained for ten years and deleted afterwards. Backups are encrypted and kept for ninety days.',
    words: 'customer records retained deleted years',
    typos: 'custmer recrods retaind deleetd',
    synonyms: 'how long we keep client information',
  },
  {
    name: 'onboarding.txt',
    text: 'Onboarding lasts two weeks: a buddy introduces the newcomer to the tools, the teams and the product during the first days.',
    words: 'onboarding buddy newcomer tools',
    typos: 'onbording budy newcomr toolz',
    synonyms: 'what happens when I join',
  },
  {
    name: 'salary-review.txt',
    text: 'Salaries are reviewed once a year in April, based on performance reviews and market benchmarks.',
    words: 'salaries reviewed april performance',
    typos: 'salarys reviewd aprill perfomance',
    synonyms: 'when do I get a raise in pay',
  },
];

const GENERIC = [
  'This policy applies to all employees of the company.',
  'Questions about this policy go to the human resources team.',
  'Managers approve requests in the employee portal.',
  'The policy is reviewed every year by the works council.',
  'Exceptions require the written approval of a director.',
  'Employees on fixed-term contracts are covered as well.',
  'The rules of the collective agreement take precedence.',
  'Requests are answered within five working days.',
  'Records of each request are kept in the portal.',
  'The team lead informs new members of this policy.',
  'Local law may grant employees more than this policy.',
  'The policy was last updated in January.',
];

/** `n` distractor documents, four generic sentences each (deterministic). @param {number} n */
function distractors(n) {
  /** @type {Array<{ name: string, text: string }>} */
  const docs = [];
  for (let i = 0; i < n; i++) {
    const sentences = [0, 1, 2, 3].map((k) => GENERIC[(i * 7 + k * 5 + k * k * i) % GENERIC.length]);
    docs.push({ name: `general-${i}.txt`, text: sentences.join(' ') });
  }
  return docs;
}

/** A topic document as uploaded: its text and two generic sentences. @param {(typeof TOPICS)[number]} t @param {number} i */
const topicText = (t, i) => `${t.text} ${GENERIC[i % GENERIC.length]} ${GENERIC[(i + 5) % GENERIC.length]}`;

module.exports = { TOPICS, distractors, topicText, KINDS: /** @type {const} */ (['words', 'typos', 'synonyms']) };

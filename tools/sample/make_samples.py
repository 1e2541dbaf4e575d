#!/usr/bin/env python3
"""Writes the small built-in data sets of cohx (our own text, made from templates, seeded):
  coh/src/main/resources/io/cohx/coh/data/sample/feedback_train.jsonl.gz  HH-RLHF format, 320 dialogues
  coh/src/main/resources/io/cohx/coh/data/sample/feedback_test.jsonl.gz   HH-RLHF format, 40 dialogues
  coh/src/main/resources/io/cohx/coh/data/sample/pretrain.jsonl.gz        {"text": ...}, 240 paragraphs
Each feedback record has a helpful `chosen` and an unhelpful `rejected` answer to the same
conversation, as in HH-RLHF. Output is byte-stable (fixed seed, gzip mtime 0).
Regenerate: python3 tools/sample/make_samples.py
"""
import gzip
import io
import json
import os
import random

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'coh', 'src', 'main', 'resources', 'io',
                   'cohx', 'coh', 'data', 'sample')

# (topic, question, helpful answer, follow-up question, helpful follow-up answer)
TOPICS = [
    ('bread', 'How do I make my bread rise better?',
     'Use fresh yeast, keep the dough somewhere warm (about 25 C), and let it rise until it has doubled, which usually takes one to two hours.',
     'What if my kitchen is cold?', 'Put the bowl in the oven with only the light on, or next to a warm radiator; the gentle heat is enough.'),
    ('sleep', 'How can I fall asleep faster?',
     'Keep a regular bedtime, avoid screens and caffeine in the evening, and keep the bedroom dark, quiet and cool.',
     'Does reading help?', 'For many people it does: a paper book under a dim light is calming, unlike a bright phone screen.'),
    ('python', 'How do I read a file line by line in Python?',
     'Open it in a with-block and loop over the file object: each iteration gives you one line, including its newline.',
     'How do I drop the newline?', 'Call rstrip("\\n") on each line, or strip() if you also want to drop other surrounding spaces.'),
    ('plants', 'Why are the leaves of my basil turning yellow?',
     'Most often it is too much water: let the top of the soil dry between waterings and make sure the pot drains.',
     'Could it be the light?', 'Yes, basil wants at least six hours of sun; a pale, leggy plant usually needs a brighter window.'),
    ('running', 'How should I start running as a beginner?',
     'Start with short run-walk intervals three times a week, for example one minute running and two walking, and build up slowly.',
     'How fast should I go?', 'Slow enough that you could hold a conversation; speed comes later, consistency matters first.'),
    ('budget', 'How do I make a simple monthly budget?',
     'List your income, then your fixed costs, then set amounts for food, transport and savings; track spending for a month and adjust.',
     'What share should I save?', 'A common rule of thumb is about 20 percent, but any regular amount you can keep up is a good start.'),
    ('bike', 'My bike chain keeps slipping. What can I check?',
     'Check that the chain is clean and lubricated, then look for a worn chain or cassette and check the gear adjustment.',
     'How do I know if the chain is worn?', 'A chain checker tool shows stretch; past about 0.5 to 0.75 percent it is time to replace it.'),
    ('tea', 'How long should I steep green tea?',
     'About two to three minutes in water around 75 to 80 C; boiling water and long steeping make it bitter.',
     'Can I reuse the leaves?', 'Yes, good green tea can be steeped two or three times; add about a minute each time.'),
    ('email', 'How do I write a polite email asking for a deadline extension?',
     'Ask early, explain the reason briefly, propose a specific new date, and thank the reader for considering it.',
     'Should I apologise?', 'A short apology is fine, but keep the focus on your plan to finish; one sentence is enough.'),
    ('math', 'What is a prime number?',
     'A whole number greater than 1 whose only divisors are 1 and itself, such as 2, 3, 5, 7 and 11.',
     'Is 1 a prime?', 'No: by definition a prime has exactly two divisors, and 1 has only one.'),
    ('travel', 'What should I pack for a weekend hiking trip?',
     'Layers of clothing, a rain jacket, sturdy shoes, water, snacks, a map, a small first-aid kit and a headlamp.',
     'Do I need a stove?', 'Only if you plan hot meals; for one night, cold food and a thermos are often enough.'),
    ('memory', 'How can I remember what I study?',
     'Test yourself instead of rereading, spread the sessions over several days, and explain the material in your own words.',
     'How long should a session be?', 'Around 25 to 50 minutes with short breaks works well for most people.'),
    ('coffee', 'Why does my coffee taste sour?',
     'Sour coffee is usually under-extracted: grind a little finer, use slightly hotter water, or brew a bit longer.',
     'And if it is bitter?', 'Then it is over-extracted: grind coarser or shorten the brew time.'),
    ('cat', 'How do I get my cat to stop scratching the sofa?',
     'Give it a sturdy scratching post next to the sofa, reward it for using the post, and cover the sofa corner for a while.',
     'Which post works best?', 'A tall, heavy one that does not wobble, covered in sisal rope, suits most cats.'),
    ('git', 'How do I undo my last git commit but keep the changes?',
     'Run git reset --soft HEAD~1: the commit is removed and its changes stay staged.',
     'What if I already pushed it?', 'Then prefer git revert, which adds a new commit that undoes it without rewriting shared history.'),
    ('stress', 'What can I do when I feel stressed at work?',
     'Take short breaks, break big tasks into small steps, and talk to your manager about priorities if the load is too high.',
     'Any quick trick for the moment?', 'Slow breathing helps: breathe in for four counts and out for six, for a minute or two.'),
]

UNHELPFUL = [
    'I do not know.',
    'Just search the internet.',
    'That is not something I can help with.',
    'Why would you want to do that?',
    'It does not matter, do whatever you like.',
    'Figure it out yourself.',
    'Everyone knows that already.',
    'Ask someone else.',
]
HARMFUL_TWIST = {
    'bread': 'Add a lot more yeast and put it in a very hot oven right away.',
    'sleep': 'Drink a few cups of coffee, it will tire you out.',
    'budget': 'Budgets are pointless; borrow money when you run out.',
    'running': 'Run as far and as fast as you can from the first day.',
    'stress': 'Just ignore it and work longer hours.',
}
OPENERS = ['', 'Hi! ', 'Hello, ', 'Quick question: ', 'Can you help? ']
THANKS = ['Thanks!', 'Thank you, that helps.', 'Great, thanks.', 'OK, thank you.']
CLOSINGS = ['You are welcome!', 'Glad to help.', 'Happy to help, good luck!', 'Any time.']


def dialogue(rng):
    topic, q, a, q2, a2 = rng.choice(TOPICS)
    bad = HARMFUL_TWIST[topic] if topic in HARMFUL_TWIST and rng.random() < 0.4 else rng.choice(UNHELPFUL)
    opener = rng.choice(OPENERS)
    shape = rng.random()
    if shape < 0.45:
        turns = [(opener + q, a, bad)]
    elif shape < 0.85:
        turns = [(opener + q, a, None), (q2, a2, bad if rng.random() < 0.5 else rng.choice(UNHELPFUL))]
    else:
        turns = [(opener + q, a, None), (q2, a2, None), (rng.choice(THANKS), rng.choice(CLOSINGS), rng.choice(UNHELPFUL))]

    def render(final_good):
        text = ''
        for i, (human, good, bad_last) in enumerate(turns):
            last = i == len(turns) - 1
            text += '\n\nHuman: ' + human + '\n\nAssistant: ' + (good if (final_good or not last) else bad_last)
        return text

    return {'chosen': render(True), 'rejected': render(False)}


SUBJECTS = ['The river', 'A small village', 'The old library', 'The market square', 'A mountain trail', 'The harbour',
            'The school garden', 'An autumn forest', 'The city park', 'A quiet valley', 'The train station',
            'The lighthouse']
VERBS = ['was busy', 'was calm', 'changed slowly', 'woke up early', 'filled with light', 'grew colder']
DETAILS = ['as the seasons turned', 'after the long rain', 'during the summer festival', 'before the first snow',
           'on market day', 'while the sun rose']
FACTS = [
    'Water boils at 100 degrees Celsius at sea level.', 'Bees communicate the direction of flowers with a dance.',
    'The moon takes about 27 days to orbit the earth.', 'Bread rises because yeast produces carbon dioxide.',
    'Maps use a scale to show real distances.', 'Trees grow a new ring of wood each year.',
    'Sound travels faster in water than in air.', 'A leap year has 366 days.',
    'Owls can turn their heads very far to each side.', 'Salt lowers the freezing point of water.',
]


def paragraph(rng):
    sentences = []
    for _ in range(rng.randint(3, 6)):
        if rng.random() < 0.35:
            sentences.append(rng.choice(FACTS))
        else:
            sentences.append(f'{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(DETAILS)}.')
    return ' '.join(sentences)


def write_gz(name, records):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode='wb', mtime=0) as gz:
        for r in records:
            gz.write((json.dumps(r) + '\n').encode('utf-8'))
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(buf.getvalue())


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(20230302)
    write_gz('feedback_train.jsonl.gz', [dialogue(rng) for _ in range(320)])
    write_gz('feedback_test.jsonl.gz', [dialogue(rng) for _ in range(40)])
    write_gz('pretrain.jsonl.gz', [{'text': paragraph(rng)} for _ in range(240)])


if __name__ == '__main__':
    main()

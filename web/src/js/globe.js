// SPDX-License-Identifier: BSD-2-Clause
// globe.js: the WebGL view: scene, lit Earth with land texture, borders, graticule, stars, controls.
//
// DESIGN: land is filled into an equirectangular canvas (geo.js) that becomes the sphere's colour
// map, with a matching specular map so the sea glints and the land stays matte under the camera's
// light. Coastlines, borders and the graticule are real line geometry just above the surface, so
// they stay crisp at any zoom. The camera orbits (OrbitControls); the light rides with the camera.
// Arcs and markers come from arcs.js. The view renders continuously (pulses move) but does nothing
// while the tab is hidden (requestAnimationFrame stops).
import * as THREE from '../vendor/three.module.js';
import { OrbitControls } from '../vendor/OrbitControls.js';
import { ArcLayer, latLonToVec3, arcPointJs, GLOBE_LIFT } from './arcs.js';
import { drawWorld, graticule, loadWorld } from './geo.js';

const EARTH = { ocean: '#071b36', land: '#3d6072', coast: '#9cc3dd', border: '#6d92ad' };
const RESUME_ROTATE_MS = 60000;

/*
 * The Earth's material: one texture fetch and simple lighting from a light that rides with the
 * camera (upper left), plus a glint on the sea only (pixels of the ocean colour). Cheaper than
 * MeshPhongMaterial with a specular map, which matters in software rendering.
 */
function earthMaterial() {
	const ocean = new THREE.Color(EARTH.ocean);
	return new THREE.ShaderMaterial({
		uniforms: { uMap: { value: null }, uHasMap: { value: 0 }, uOcean: { value: new THREE.Vector3(ocean.r, ocean.g, ocean.b) } },
		vertexShader: `varying vec2 vUv; varying vec3 vN; varying vec3 vV;
			void main() { vUv = uv; vN = normalize(normalMatrix * normal); vec4 mv = modelViewMatrix * vec4(position, 1.0);
			vV = normalize(-mv.xyz); gl_Position = projectionMatrix * mv; }`,
		fragmentShader: `uniform sampler2D uMap; uniform float uHasMap; uniform vec3 uOcean; varying vec2 vUv; varying vec3 vN; varying vec3 vV;
			void main() {
				vec3 base = uHasMap > 0.5 ? texture2D(uMap, vUv).rgb : uOcean;
				vec3 n = normalize(vN);
				vec3 l = normalize(vec3(-0.55, 0.45, 0.70));
				float diff = max(dot(n, l), 0.0);
				float sea = 1.0 - smoothstep(0.02, 0.07, distance(base, uOcean));
				float spec = pow(max(dot(reflect(-l, n), normalize(vV)), 0.0), 24.0) * sea;
				float rim = pow(1.0 - max(dot(n, normalize(vV)), 0.0), 2.5);
				vec3 col = base * (0.62 + 0.78 * diff) + vec3(0.30, 0.45, 0.62) * spec * 0.55 + vec3(0.20, 0.42, 0.85) * rim * 0.35;
				gl_FragColor = vec4(col, 1.0);
			}`,
	});
}

// Lines [[lon, lat], ...] as one LineSegments just above the sphere.
function sphereLines(lines, radius, color, opacity) {
	const pts = [];
	const v = new THREE.Vector3();
	const w = new THREE.Vector3();
	for (const line of lines) {
		for (let i = 1; i < line.length; i++) {
			const [lo0, la0] = line[i - 1];
			const [lo1, la1] = line[i];
			if (Math.abs(lo1 - lo0) > 180) continue;
			latLonToVec3(la0, lo0, radius, v);
			latLonToVec3(la1, lo1, radius, w);
			pts.push(v.x, v.y, v.z, w.x, w.y, w.z);
		}
	}
	const g = new THREE.BufferGeometry();
	g.setAttribute('position', new THREE.Float32BufferAttribute(pts, 3));
	const m = new THREE.LineBasicMaterial({ color, transparent: true, opacity, depthWrite: false });
	const seg = new THREE.LineSegments(g, m);
	seg.renderOrder = 1;
	return seg;
}

/*
 * Multisampling only where it pays: not on high-density screens (pixels are small already), not in
 * software rendering (SwiftShader: it costs about 2.7 times the frame), and never with ?aa=0. The
 * arcs smooth their own edges in the fragment shader either way.
 */
function wantMsaa(pixelRatio) {
	if (new URLSearchParams(location.search).get('aa') === '0' || pixelRatio >= 1.5) return false;
	try {
		const gl = document.createElement('canvas').getContext('webgl2') || document.createElement('canvas').getContext('webgl');
		const info = gl && gl.getExtension('WEBGL_debug_renderer_info');
		const name = info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl ? gl.getParameter(gl.RENDERER) : '';
		if (gl) { const lose = gl.getExtension('WEBGL_lose_context'); lose && lose.loseContext(); }
		return !/swiftshader|llvmpipe|software/i.test(String(name));
	} catch (e) {
		return true;
	}
}

export class GlobeView {
	// Build the renderer in `container` (throws when WebGL cannot start).
	constructor(container, opts = {}) {
		this.container = container;
		this.opts = opts;
		this.canvas = document.createElement('canvas');
		this.canvas.id = 'globe-canvas';
		this.canvas.setAttribute('role', 'img');
		this.canvas.setAttribute('aria-label', 'Globe: arcs from home to every place this host talks with');
		container.appendChild(this.canvas);
		this.pixelRatio = Math.min(window.devicePixelRatio || 1, 2);
		this.renderer = new THREE.WebGLRenderer({
			canvas: this.canvas, antialias: wantMsaa(this.pixelRatio), alpha: true, powerPreference: 'high-performance',
			preserveDrawingBuffer: !!opts.preserve,
		});
		this.gl = this.renderer.getContext();
		this.renderer.setClearColor(0x000000, 0);
		this.renderer.setPixelRatio(this.pixelRatio);
		this.scene = new THREE.Scene();
		this.camera = new THREE.PerspectiveCamera(38, 1, 0.05, 200);
		this.camera.position.set(0, 0, 3.2);
		this.scene.add(this.camera);

		this.earth = new THREE.Mesh(new THREE.SphereGeometry(1, 96, 64), earthMaterial());
		this.earth.renderOrder = 0;
		this.scene.add(this.earth);
		this.scene.add(this.atmosphere());
		this.scene.add(this.stars());
		this.scene.add(sphereLines(graticule(15), 1.0008, 0x6f8fb0, 0.14));

		this.arcs = new ArcLayer();
		this.scene.add(this.arcs.group);

		this.controls = new OrbitControls(this.camera, this.canvas);
		this.controls.enablePan = false;
		this.controls.enableDamping = true;
		this.controls.dampingFactor = 0.08;
		this.controls.minDistance = 1.35;
		this.controls.maxDistance = 7;
		this.controls.rotateSpeed = 0.5;
		this.controls.zoomSpeed = 0.8;
		this.controls.autoRotateSpeed = 0.35;
		this.controls.autoRotate = opts.rotate !== false;
		this.lastInteraction = 0;
		this.controls.addEventListener('start', () => {
			this.controls.autoRotate = false;
			this.lastInteraction = performance.now();
			this.onInteract && this.onInteract();
		});
		this.controls.addEventListener('end', () => { this.lastInteraction = performance.now(); });

		this.labels = opts.labels || null;
		this.sampleCache = null;
		this.tmp = new THREE.Vector3();
		this.resize();
		new ResizeObserver(() => this.resize()).observe(container);
	}

	// Load the atlas and paint land, coastlines and borders (resolves when drawn).
	async loadEarth(small) {
		const world = await loadWorld(small ? '110m' : '50m');
		const W = small ? 2048 : 4096;
		const H = W / 2;
		const map = document.createElement('canvas');
		map.width = W; map.height = H;
		const g = map.getContext('2d');
		g.fillStyle = EARTH.ocean;
		g.fillRect(0, 0, W, H);
		const project = (lo, la) => [(lo + 180) / 360 * W, (90 - la) / 180 * H];
		drawWorld(g, world, project, W, { land: EARTH.land });
		const tex = new THREE.CanvasTexture(map);
		tex.anisotropy = Math.min(4, this.renderer.capabilities.getMaxAnisotropy());
		this.earth.material.uniforms.uMap.value = tex;
		this.earth.material.uniforms.uHasMap.value = 1;
		this.scene.add(sphereLines(world.coast, 1.0012, EARTH.coast, 0.75));
		this.scene.add(sphereLines(world.borders, 1.0012, EARTH.border, 0.6));
	}

	// A soft blue rim around the Earth (view-space Fresnel on a slightly larger back-facing sphere).
	atmosphere() {
		const m = new THREE.ShaderMaterial({
			vertexShader: `varying vec3 vN; void main(){ vN = normalize(normalMatrix * normal); gl_Position = projectionMatrix * modelViewMatrix * vec4(position,1.0); }`,
			fragmentShader: `varying vec3 vN; void main(){ float k = pow(max(0.0, 0.72 - dot(vN, vec3(0.0,0.0,1.0))), 3.0); gl_FragColor = vec4(0.35,0.62,1.0,1.0) * k * 0.85; }`,
			side: THREE.BackSide, blending: THREE.AdditiveBlending, transparent: true, depthWrite: false,
		});
		return new THREE.Mesh(new THREE.SphereGeometry(1.09, 64, 48), m);
	}

	// A few thousand faint stars far away (seeded, so screenshots are stable).
	stars() {
		let seed = 12345;
		const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
		const n = 1800;
		const pos = new Float32Array(n * 3);
		for (let i = 0; i < n; i++) {
			const u = rnd() * 2 - 1, th = rnd() * Math.PI * 2, r = 60;
			const s = Math.sqrt(1 - u * u);
			pos.set([r * s * Math.cos(th), r * u, r * s * Math.sin(th)], i * 3);
		}
		const g = new THREE.BufferGeometry();
		g.setAttribute('position', new THREE.BufferAttribute(pos, 3));
		return new THREE.Points(g, new THREE.PointsMaterial({
			color: 0xaabbdd, size: 1.3, sizeAttenuation: false, transparent: true, opacity: 0.55, depthWrite: false,
		}));
	}

	// Put home on the globe (the marker only; aim() turns the camera).
	setHome(lat, lon, color) {
		this.arcs.setHome(lat, lon, color);
	}

	// Look at home, leaning towards where the traffic goes (once, when the first data arrives).
	aim(home, places) {
		const v = latLonToVec3(home.lat, home.lon, 1).multiplyScalar(2);
		const w = new THREE.Vector3();
		let n = 0;
		for (const p of places.values()) { v.add(latLonToVec3(p.lat, p.lon, 1, w).multiplyScalar(1 / Math.max(1, places.size))); n++; }
		if (v.lengthSq() < 1e-6) latLonToVec3(home.lat, home.lon, 1, v);
		v.normalize();
		// Never aim so far from home that home leaves the view.
		const h = latLonToVec3(home.lat, home.lon, 1);
		if (v.angleTo(h) > 0.6) v.copy(h).lerp(v, 0.6 / v.angleTo(h)).normalize();
		this.camera.position.copy(v.multiplyScalar(this.camera.position.length()));
		this.camera.lookAt(0, 0, 0);
		this.controls.update();
		void n;
	}

	// Redraw the arcs from state.places. opts as ArcLayer.update.
	update(places, opts) {
		const drawn = this.arcs.update(places, opts);
		this.sampleCache = null;
		return drawn;
	}

	// Fit the renderer to the container; move the camera back when the view is narrow.
	resize() {
		const r = this.container.getBoundingClientRect();
		const w = Math.max(1, Math.round(r.width));
		const h = Math.max(1, Math.round(r.height));
		if (w === this.w && h === this.h) return;
		this.w = w; this.h = h;
		this.renderer.setSize(w, h, false);
		this.canvas.style.width = `${w}px`;
		this.canvas.style.height = `${h}px`;
		this.camera.aspect = w / h;
		// Fit a sphere of radius 1.35 (Earth plus arcs) into the narrower field of view.
		const vfov = this.camera.fov * Math.PI / 180;
		const hfov = 2 * Math.atan(Math.tan(vfov / 2) * this.camera.aspect);
		const fit = 1.3 / Math.sin(Math.min(vfov, hfov) / 2);
		this.fitDistance = Math.min(6.5, Math.max(2.4, fit));
		this.camera.position.setLength(this.fitDistance);
		this.camera.updateProjectionMatrix();
		this.labels && this.labels.resize(w, h, this.pixelRatio);
		// A resized canvas is blank until drawn again (even while the view is frozen).
		if (this.onResize) this.onResize();
	}

	// One frame: controls, uniforms, render. Returns the milliseconds spent.
	frame(nowMs, dtS) {
		if (!this.controls.autoRotate && this.opts.rotate !== false && this.lastInteraction &&
		    nowMs - this.lastInteraction > RESUME_ROTATE_MS) this.controls.autoRotate = true;
		// Slower rotation when close to the surface.
		const dist = this.camera.position.length();
		this.controls.rotateSpeed = Math.min(0.6, 0.25 * (dist - 1));
		this.controls.update(dtS);
		this.arcs.tick(nowMs / 1000, this.w, this.h, this.pixelRatio);
		const t0 = performance.now();
		this.renderer.render(this.scene, this.camera);
		return performance.now() - t0;
	}

	// Screen position (CSS px) of a world point and whether the Earth hides it.
	project(v) {
		const cam = this.camera.position;
		// Hidden when the segment camera->v crosses the unit sphere first.
		const dx = v.x - cam.x, dy = v.y - cam.y, dz = v.z - cam.z;
		const a = dx * dx + dy * dy + dz * dz;
		const b = 2 * (cam.x * dx + cam.y * dy + cam.z * dz);
		const c = cam.lengthSq() - 1;
		const disc = b * b - 4 * a * c;
		let hidden = false;
		if (disc > 0) {
			const s = (-b - Math.sqrt(disc)) / (2 * a);
			hidden = s > 0 && s < 0.999;
		}
		const p = this.tmp.copy(v).project(this.camera);
		return { x: (p.x + 1) / 2 * this.w, y: (1 - p.y) / 2 * this.h, hidden };
	}

	// Sample points of every drawn arc (world space), rebuilt after each update.
	samples() {
		if (this.sampleCache) return this.sampleCache;
		const K = 14;
		const list = this.arcs.instances;
		const pts = new Float32Array(list.length * (K + 1) * 3);
		const v = new THREE.Vector3();
		list.forEach((inst, i) => {
			for (let k = 0; k <= K; k++) {
				arcPointJs(this.arcs.homeVec, inst.end, inst.h, k / K, v);
				pts.set([v.x, v.y, v.z], (i * (K + 1) + k) * 3);
			}
		});
		this.sampleCache = { K, pts, list };
		return this.sampleCache;
	}

	// The place key of the arc or dot nearest to (x, y) in CSS px within `radius`, or null.
	pick(x, y, radius = 10) {
		const { K, pts, list } = this.samples();
		let best = null;
		let bestD = radius * radius;
		const v = new THREE.Vector3();
		for (let i = 0; i < list.length; i++) {
			// The far end counts double: grabbing a place dot is the common case.
			for (let k = 1; k <= K; k++) {
				const o = (i * (K + 1) + k) * 3;
				v.set(pts[o], pts[o + 1], pts[o + 2]);
				const s = this.project(v);
				if (s.hidden) continue;
				const d = (s.x - x) ** 2 + (s.y - y) ** 2;
				const dd = k === K ? d * 0.5 : d;
				if (dd < bestD) { bestD = dd; best = list[i].key; }
			}
		}
		return best;
	}

	// Screen point of the middle of a place's arc (or of the point at t), or null when hidden.
	arcScreenPoint(key, at) {
		const inst = this.arcs.instances.find((a) => a.key === key);
		if (!inst) return null;
		for (const t of at != null ? [at] : [0.5, 0.65, 0.35, 0.8, 0.2, 0.9]) {
			const v = arcPointJs(this.arcs.homeVec, inst.end, inst.h, t, new THREE.Vector3());
			const s = this.project(v);
			if (!s.hidden && s.x >= 0 && s.y >= 0 && s.x <= this.w && s.y <= this.h) return { x: s.x, y: s.y };
		}
		return null;
	}

	// Screen point of a place (its dot) or null when behind the Earth.
	placeScreenPoint(lat, lon) {
		const v = latLonToVec3(lat, lon, GLOBE_LIFT, new THREE.Vector3());
		const s = this.project(v);
		return s.hidden ? null : s;
	}

	// Turn the camera towards a place (when the person picks it in the list).
	focus(lat, lon) {
		const d = this.camera.position.length();
		const target = latLonToVec3(lat, lon, d, new THREE.Vector3());
		const from = this.camera.position.clone();
		const t0 = performance.now();
		this.controls.autoRotate = false;
		this.lastInteraction = performance.now();
		const step = () => {
			const k = Math.min(1, (performance.now() - t0) / 700);
			const e = k < 0.5 ? 2 * k * k : 1 - (-2 * k + 2) ** 2 / 2;
			this.camera.position.copy(from).lerp(target, e).setLength(d);
			this.camera.lookAt(0, 0, 0);
			if (k < 1) requestAnimationFrame(step);
		};
		requestAnimationFrame(step);
	}
}
